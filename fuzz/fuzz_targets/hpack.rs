//! HPACK: arbitrary header blocks through one decoder (its dynamic table carried from block
//! to block) must decode or fail cleanly, and whatever fields come out must survive our
//! encoder and decode back the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sluice_h2::hpack::{encode_field, Decoder};

fuzz_target!(|data: &[u8]| {
    let mut dec = Decoder::new(4096);
    for block in data.split(|&b| b == 0xfe) {
        let mut fields = Vec::new();
        if dec
            .decode(block, |n, v| fields.push((n.to_vec(), v.to_vec())))
            .is_err()
        {
            return;
        }
        let mut out = Vec::new();
        for (n, v) in &fields {
            encode_field(&mut out, n, v);
        }
        let mut back = Vec::new();
        Decoder::new(4096)
            .decode(&out, |n, v| back.push((n.to_vec(), v.to_vec())))
            .unwrap();
        let lower: Vec<_> = fields
            .iter()
            .map(|(n, v)| (n.to_ascii_lowercase(), v.clone()))
            .collect();
        assert_eq!(back, lower);
    }
});
