#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| gomod::fuzz::go_sum(data));
