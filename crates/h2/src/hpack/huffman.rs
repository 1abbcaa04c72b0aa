//! Huffman strings (RFC 7541 section 5.2), decoded four bits at a time: a table, built once
//! from the code, maps (state, nibble) to the next state and the symbol completed, if any.
//! A state is an inner node of the code tree; no code is shorter than five bits, so a
//! nibble completes at most one symbol.

use std::sync::OnceLock;

use super::huffman_table::CODES;

const EMITS: u8 = 1;
const FAILS: u8 = 2;

#[derive(Clone, Copy, Default)]
struct Step {
    next: u8,
    sym: u8,
    flags: u8,
}

struct Machine {
    steps: Vec<Step>,
    /// Whether a string may end in this state: at the root, or after at most seven bits
    /// that are all ones (a prefix of EOS, as padding must be).
    accepts: [bool; 256],
}

fn machine() -> &'static Machine {
    static M: OnceLock<Machine> = OnceLock::new();
    M.get_or_init(build)
}

/// The code tree: inner nodes, children either an inner node (`>= 0`) or a symbol
/// (`-(sym + 1)`); node 0 is the root.
fn tree() -> Vec<[i32; 2]> {
    let mut nodes = vec![[0i32; 2]];
    for (sym, &(code, len)) in CODES.iter().enumerate() {
        let mut at = 0usize;
        for i in (0..len).rev() {
            let bit = ((code >> i) & 1) as usize;
            if i == 0 {
                nodes[at][bit] = -(sym as i32 + 1);
            } else {
                if nodes[at][bit] == 0 {
                    nodes.push([0; 2]);
                    nodes[at][bit] = (nodes.len() - 1) as i32;
                }
                at = nodes[at][bit] as usize;
            }
        }
    }
    nodes
}

fn build() -> Machine {
    let nodes = tree();
    // 257 symbols make 256 inner nodes: each fits a byte.
    debug_assert_eq!(nodes.len(), 256);
    let mut accepts = [false; 256];
    // depth-first from the root along all-ones paths
    let mut at = 0usize;
    for _ in 0..8 {
        accepts[at] = true;
        match nodes[at][1] {
            n if n > 0 => at = n as usize,
            _ => break,
        }
    }
    let mut steps = vec![Step::default(); nodes.len() * 16];
    for (state, _) in nodes.iter().enumerate() {
        for nibble in 0..16u8 {
            let mut at = state;
            let mut step = Step::default();
            for i in (0..4).rev() {
                let child = nodes[at][usize::from((nibble >> i) & 1)];
                if child > 0 {
                    at = child as usize;
                } else {
                    let sym = -child - 1;
                    if sym == 256 || step.flags & EMITS != 0 {
                        step.flags |= FAILS;
                        break;
                    }
                    step.sym = sym as u8;
                    step.flags |= EMITS;
                    at = 0;
                }
            }
            step.next = at as u8;
            steps[state * 16 + usize::from(nibble)] = step;
        }
    }
    Machine { steps, accepts }
}

/// Decodes `src` onto `out`; `Err` on EOS in the data or bad padding.
pub(crate) fn decode(src: &[u8], out: &mut Vec<u8>) -> Result<(), ()> {
    let m = machine();
    let mut state = 0usize;
    for &b in src {
        for nibble in [b >> 4, b & 0xf] {
            let step = m.steps[state * 16 + usize::from(nibble)];
            if step.flags & FAILS != 0 {
                return Err(());
            }
            if step.flags & EMITS != 0 {
                out.push(step.sym);
            }
            state = usize::from(step.next);
        }
    }
    if m.accepts[state] {
        Ok(())
    } else {
        Err(())
    }
}

/// Encodes `src` (for tests: Sluice itself sends strings as they are).
#[cfg(test)]
pub(crate) fn encode(src: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut acc: u64 = 0;
    let mut bits = 0u32;
    for &b in src {
        let (code, len) = CODES[usize::from(b)];
        acc = (acc << len) | u64::from(code);
        bits += u32::from(len);
        while bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    if bits > 0 {
        out.push(((acc << (8 - bits)) as u8) | (0xff >> bits));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hpack::tests::hex;

    /// RFC 7541 C.4.1 and C.6.1.
    #[test]
    fn rfc_examples_decode_and_encode() {
        for (text, code) in [
            ("www.example.com", "f1e3 c2e5 f23a 6ba0 ab90 f4ff"),
            ("no-cache", "a8eb 1064 9cbf"),
            ("custom-key", "25a8 49e9 5ba9 7d7f"),
            ("302", "6402"),
            (
                "Mon, 21 Oct 2013 20:13:21 GMT",
                "d07a be94 1054 d444 a820 0595 040b 8166 e082 a62d 1bff",
            ),
            (
                "https://www.example.com",
                "9d29 ad17 1863 c78f 0b97 c8e9 ae82 ae43 d3",
            ),
        ] {
            let mut out = Vec::new();
            decode(&hex(code), &mut out).unwrap();
            assert_eq!(out, text.as_bytes());
            assert_eq!(encode(text.as_bytes()), hex(code), "{text}");
        }
    }

    #[test]
    fn every_byte_round_trips() {
        let all: Vec<u8> = (0..=255u8).chain((0..=255u8).rev()).collect();
        let mut out = Vec::new();
        decode(&encode(&all), &mut out).unwrap();
        assert_eq!(out, all);
        for len in 0..40 {
            let s: Vec<u8> = (0..len).map(|i| (i * 37 % 256) as u8).collect();
            let mut out = Vec::new();
            decode(&encode(&s), &mut out).unwrap();
            assert_eq!(out, s);
        }
    }

    #[test]
    fn bad_padding_and_eos_are_refused() {
        let mut out = Vec::new();
        // "0" is 00000 (5 bits): padding of zeros is not EOS's prefix
        assert!(decode(&[0x00], &mut out).is_err());
        // eight bits of padding: too long
        assert!(decode(&[0x07, 0xff], &mut out).is_err());
        // EOS itself (30 ones) in the data
        assert!(decode(&[0xff, 0xff, 0xff, 0xff], &mut out).is_err());
        // "0" then seven ones: fine
        out.clear();
        decode(&[0x07], &mut out).unwrap();
        assert_eq!(out, b"0");
        decode(&[], &mut out).unwrap();
    }
}
