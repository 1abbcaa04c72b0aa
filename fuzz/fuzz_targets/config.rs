//! Any bytes as a configuration file: diagnostics, never a panic.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    sluice_config::fuzz_parse(data);
});
