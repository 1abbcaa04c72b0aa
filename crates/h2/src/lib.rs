//! HTTP/2 wire format for the client side of Sluice (RFC 9113, RFC 7541): frame heads and
//! the frames a server writes, and HPACK. No I/O and no stream state here; the connection
//! machine lives in the proxy (`sluice_proxy::mux_h2`).
//!
//! HPACK is decoded in full (dynamic table, Huffman). It is encoded as HAProxy does: literal
//! fields without indexing, names by their static-table index where there is one, strings
//! as they are (no Huffman). That costs a few bytes per response and saves the table
//! upkeep, the search and the bit packing on every response.

pub mod frame;
pub mod hpack;
