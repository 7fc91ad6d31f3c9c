//! One reader and checker of kernel configurations, shared by the node's `k3s-check-config` and the host's
//! `k3s-bake check-kernel`, so the two can never disagree about what a `.config` says:
//!
//! * [`dotconfig`]: parse a `.config` (plain or gzip, as `/proc/config.gz`); errors name the file and line.
//! * [`check`]: a parsed config against [`k3s_model::kernel::OPTIONS`], with `=m` reported apart from `=y`, and
//!   the exit status both tools use ([`check::Exit`]).
//! * [`lang`]: a reader of the Kconfig language (`config`, `depends on`, `if`, `menu`, `source`) that explains
//!   from a kernel tree why a requested option did not end up as requested.
//! * [`gzip`]: RFC 1952 framing around miniz_oxide's inflate.
//!
//! No process is spawned and nothing is written: input is bytes or files the caller names.
#![forbid(unsafe_code)]

pub mod check;
pub mod dotconfig;
pub mod gzip;
pub mod lang;
