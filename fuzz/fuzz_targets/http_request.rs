//! Any bytes as an HTTP/1 request stream: a status or a parsed head, never a panic.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    sluice_http::fuzz_request(data);
});
