//! Renderers for the generated files: each is a pure function of the [`crate::generated::Context`].

pub mod airgap_inc;
pub mod charts_inc;
pub mod config_facts_inc;
pub mod data_paths_inc;
pub mod flags_table;
pub mod go_inc;
pub mod kas;
pub mod kernel_fragment;
pub mod node_recipe;
pub mod node_tools_inc;
pub mod spec_inc;
