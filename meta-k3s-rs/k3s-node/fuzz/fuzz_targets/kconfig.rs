#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| k3s_node::fuzzing::kconfig_entry(data));
