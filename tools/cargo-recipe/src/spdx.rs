//! SPDX license expressions (Cargo's `license` field) converted to OE `LICENSE` syntax: the layer's one licence
//! vocabulary, `oe-license` (shared with the Go generator, so one expression always becomes the same OE text).

pub use oe_license::{Expr, SpdxError, Term, and_operand, convert, is_common_license, oe_name, parse, terms, to_oe};
