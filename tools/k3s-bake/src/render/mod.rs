//! Renderers for the generated files: each is a pure function of the [`crate::generated::Context`].

pub mod go_inc;
pub mod node_recipe;
pub mod spec_inc;
