//! Renderers for the generated files: each is a pure function of the [`crate::generated::Context`].

pub mod kernel_fragment;
pub mod spec_inc;
