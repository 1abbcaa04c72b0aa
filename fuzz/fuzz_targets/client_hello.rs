//! Any bytes as the start of a TLS connection (`req.ssl_sni` and friends): a ClientHello, "not
//! TLS" or "need more", never a panic, and no prefix parsing differently from the whole.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    sluice_tls::fuzz_client_hello(data);
});
