//! HAProxy 2.6's built-in error responses (`http_err_msgs` in `src/http.c`), byte for byte.
//!
//! HAProxy sends them in two shapes, captured with raw sockets from 2.6.12:
//!
//! * **raw**: the H1 mux writes the message text as is when it refuses a request it could not
//!   parse (400), times out waiting for one (408), or refuses an HTTP/1.0 body on GET (413) or
//!   an unknown transfer coding (422). Header names keep their capitals and `Connection: close`
//!   sits where the text has it.
//! * **htx**: everything the stream layer answers (`http-request deny`, 502, 503, 504, ...) is
//!   converted to HTX and re-emitted, so names are lower-case and, for the messages carrying
//!   `Connection: close`, that header moves to the end as the mux's own.

/// One page in both shapes. `$len` is the body length, checked by a test.
macro_rules! page {
    ($line:literal, $len:literal, $body:literal, close) => {
        (
            concat!("HTTP/1.1 ", $line, "\r\nContent-length: ", $len,
                "\r\nCache-Control: no-cache\r\nConnection: close\r\nContent-Type: text/html\r\n\r\n", $body),
            concat!("HTTP/1.1 ", $line, "\r\ncontent-length: ", $len,
                "\r\ncache-control: no-cache\r\ncontent-type: text/html\r\nconnection: close\r\n\r\n", $body),
        )
    };
    ($line:literal, $len:literal, $body:literal) => {
        (
            concat!("HTTP/1.1 ", $line, "\r\nContent-length: ", $len,
                "\r\nCache-Control: no-cache\r\nContent-Type: text/html\r\n\r\n", $body),
            concat!("HTTP/1.1 ", $line, "\r\ncontent-length: ", $len,
                "\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n", $body),
        )
    };
}

/// (status, (raw, htx)).
const PAGES: &[(u16, (&str, &str))] = &[
    (200, page!("200 OK", "58", "<html><body><h1>200 OK</h1>\nService ready.\n</body></html>\n")),
    (400, page!("400 Bad request", "90",
        "<html><body><h1>400 Bad request</h1>\nYour browser sent an invalid request.\n</body></html>\n", close)),
    (401, page!("401 Unauthorized", "112",
        "<html><body><h1>401 Unauthorized</h1>\nYou need a valid user and password to access this content.\n</body></html>\n")),
    (403, page!("403 Forbidden", "93",
        "<html><body><h1>403 Forbidden</h1>\nRequest forbidden by administrative rules.\n</body></html>\n")),
    (404, page!("404 Not Found", "83",
        "<html><body><h1>404 Not Found</h1>\nThe resource could not be found.\n</body></html>\n")),
    (405, page!("405 Method Not Allowed", "146",
        "<html><body><h1>405 Method Not Allowed</h1>\nA request was made of a resource using a request method not supported by that resource\n</body></html>\n")),
    (407, page!("407 Unauthorized", "112",
        "<html><body><h1>407 Unauthorized</h1>\nYou need a valid user and password to access this content.\n</body></html>\n")),
    (408, page!("408 Request Time-out", "110",
        "<html><body><h1>408 Request Time-out</h1>\nYour browser didn't send a complete request in time.\n</body></html>\n", close)),
    (410, page!("410 Gone", "114",
        "<html><body><h1>410 Gone</h1>\nThe resource is no longer available and will not be available again.\n</body></html>\n")),
    (413, page!("413 Payload Too Large", "106",
        "<html><body><h1>413 Payload Too Large</h1>\nThe request entity exceeds the maximum allowed.\n</body></html>\n")),
    (422, page!("422 Unprocessable Content", "116",
        "<html><body><h1>422 Unprocessable Content</h1>\nThe server cannot process the contained instructions.\n</body></html>\n")),
    (425, page!("425 Too Early", "80",
        "<html><body><h1>425 Too Early</h1>\nYour browser sent early data.\n</body></html>\n")),
    (429, page!("429 Too Many Requests", "117",
        "<html><body><h1>429 Too Many Requests</h1>\nYou have sent too many requests in a given amount of time.\n</body></html>\n")),
    (500, page!("500 Internal Server Error", "97",
        "<html><body><h1>500 Internal Server Error</h1>\nAn internal server error occurred.\n</body></html>\n")),
    // The leading '.' in the text is HAProxy's own typo, kept for byte parity.
    (501, page!("501 Not Implemented", "136",
        "<html><body><h1>501 Not Implemented</h1>\n.The server does not support the functionality required to fulfill the request.\n</body></html>\n")),
    (502, page!("502 Bad Gateway", "107",
        "<html><body><h1>502 Bad Gateway</h1>\nThe server returned an invalid or incomplete response.\n</body></html>\n")),
    (503, page!("503 Service Unavailable", "107",
        "<html><body><h1>503 Service Unavailable</h1>\nNo server is available to handle this request.\n</body></html>\n")),
    (504, page!("504 Gateway Time-out", "92",
        "<html><body><h1>504 Gateway Time-out</h1>\nThe server didn't respond in time.\n</body></html>\n")),
];

fn lookup(status: u16) -> (&'static str, &'static str) {
    // HAProxy maps any status it has no page for to its 500 page (`http_get_status_idx`).
    PAGES
        .iter()
        .find(|(s, _)| *s == status)
        .or_else(|| PAGES.iter().find(|(s, _)| *s == 500))
        .map_or(("", ""), |(_, p)| *p)
}

/// The page as the H1 mux writes it (parse errors, request timeout).
pub fn error_page_raw(status: u16) -> &'static [u8] {
    lookup(status).0.as_bytes()
}

/// The page as the stream layer emits it (deny rules, 502, 503, 504, ...).
pub fn error_page_htx(status: u16) -> &'static [u8] {
    lookup(status).1.as_bytes()
}

/// The page HAProxy 2.6 sends for `status` on the path that produces that status in practice:
/// the raw mux form for the statuses the H1 mux emits itself (400 for a malformed request,
/// 408, 413, 422 and 501), the HTX form for the rest. A 400 from a `deny` rule is the
/// exception: use [`error_page_htx`] there. Unknown statuses give the 500 page.
pub fn error_page(status: u16) -> &'static [u8] {
    match status {
        400 | 408 | 413 | 422 | 501 => error_page_raw(status),
        _ => error_page_htx(status),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn content_length_matches_body() {
        for (status, (raw, htx)) in PAGES {
            for page in [raw, htx] {
                let (head, body) = page.split_once("\r\n\r\n").unwrap();
                let cl = head
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length: ")
                            .map(str::to_owned)
                    })
                    .unwrap();
                assert_eq!(cl.parse::<usize>().unwrap(), body.len(), "{status}");
            }
        }
    }

    // Captured from HAProxy 2.6.12 with raw sockets.
    #[test]
    fn pages_are_byte_identical_to_haproxy() {
        assert_eq!(error_page(400), b"HTTP/1.1 400 Bad request\r\nContent-length: 90\r\nCache-Control: no-cache\r\nConnection: close\r\nContent-Type: text/html\r\n\r\n<html><body><h1>400 Bad request</h1>\nYour browser sent an invalid request.\n</body></html>\n".as_slice());
        assert_eq!(error_page(408), b"HTTP/1.1 408 Request Time-out\r\nContent-length: 110\r\nCache-Control: no-cache\r\nConnection: close\r\nContent-Type: text/html\r\n\r\n<html><body><h1>408 Request Time-out</h1>\nYour browser didn't send a complete request in time.\n</body></html>\n".as_slice());
        assert_eq!(error_page(413), b"HTTP/1.1 413 Payload Too Large\r\nContent-length: 106\r\nCache-Control: no-cache\r\nContent-Type: text/html\r\n\r\n<html><body><h1>413 Payload Too Large</h1>\nThe request entity exceeds the maximum allowed.\n</body></html>\n".as_slice());
        assert_eq!(error_page(422), b"HTTP/1.1 422 Unprocessable Content\r\nContent-length: 116\r\nCache-Control: no-cache\r\nContent-Type: text/html\r\n\r\n<html><body><h1>422 Unprocessable Content</h1>\nThe server cannot process the contained instructions.\n</body></html>\n".as_slice());
        assert_eq!(error_page(503), b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 107\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>503 Service Unavailable</h1>\nNo server is available to handle this request.\n</body></html>\n".as_slice());
        assert_eq!(error_page(502), b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 107\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>502 Bad Gateway</h1>\nThe server returned an invalid or incomplete response.\n</body></html>\n".as_slice());
        assert_eq!(error_page(504), b"HTTP/1.1 504 Gateway Time-out\r\ncontent-length: 92\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>504 Gateway Time-out</h1>\nThe server didn't respond in time.\n</body></html>\n".as_slice());
        assert_eq!(error_page(403), b"HTTP/1.1 403 Forbidden\r\ncontent-length: 93\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>403 Forbidden</h1>\nRequest forbidden by administrative rules.\n</body></html>\n".as_slice());
        assert_eq!(error_page_htx(400), b"HTTP/1.1 400 Bad request\r\ncontent-length: 90\r\ncache-control: no-cache\r\ncontent-type: text/html\r\nconnection: close\r\n\r\n<html><body><h1>400 Bad request</h1>\nYour browser sent an invalid request.\n</body></html>\n".as_slice());
        assert_eq!(error_page_htx(408), b"HTTP/1.1 408 Request Time-out\r\ncontent-length: 110\r\ncache-control: no-cache\r\ncontent-type: text/html\r\nconnection: close\r\n\r\n<html><body><h1>408 Request Time-out</h1>\nYour browser didn't send a complete request in time.\n</body></html>\n".as_slice());
        assert_eq!(error_page(999), error_page(500));
        for s in [200, 401, 404, 405, 407, 410, 425, 429, 500, 501] {
            assert!(
                error_page(s).starts_with(format!("HTTP/1.1 {s} ").as_bytes()),
                "{s}"
            );
        }
    }

    /// Every page as HAProxy 2.6.12 sent it: `deny_status N` rules (HTX form) and the
    /// mux's own answers to a bad request, a silent client, an HTTP/1.0 GET with a body and
    /// an unknown transfer coding (raw form).
    #[test]
    fn all_captured_pages_match() {
        let captured: &[(&str, u16, &[u8])] = &[
            ("deny", 200, b"HTTP/1.1 200 OK\r\ncontent-length: 58\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>200 OK</h1>\nService ready.\n</body></html>\n"),
            ("deny", 400, b"HTTP/1.1 400 Bad request\r\ncontent-length: 90\r\ncache-control: no-cache\r\ncontent-type: text/html\r\nconnection: close\r\n\r\n<html><body><h1>400 Bad request</h1>\nYour browser sent an invalid request.\n</body></html>\n"),
            ("deny", 401, b"HTTP/1.1 401 Unauthorized\r\ncontent-length: 112\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>401 Unauthorized</h1>\nYou need a valid user and password to access this content.\n</body></html>\n"),
            ("deny", 403, b"HTTP/1.1 403 Forbidden\r\ncontent-length: 93\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>403 Forbidden</h1>\nRequest forbidden by administrative rules.\n</body></html>\n"),
            ("deny", 404, b"HTTP/1.1 404 Not Found\r\ncontent-length: 83\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>404 Not Found</h1>\nThe resource could not be found.\n</body></html>\n"),
            ("deny", 405, b"HTTP/1.1 405 Method Not Allowed\r\ncontent-length: 146\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>405 Method Not Allowed</h1>\nA request was made of a resource using a request method not supported by that resource\n</body></html>\n"),
            ("deny", 407, b"HTTP/1.1 407 Unauthorized\r\ncontent-length: 112\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>407 Unauthorized</h1>\nYou need a valid user and password to access this content.\n</body></html>\n"),
            ("deny", 408, b"HTTP/1.1 408 Request Time-out\r\ncontent-length: 110\r\ncache-control: no-cache\r\ncontent-type: text/html\r\nconnection: close\r\n\r\n<html><body><h1>408 Request Time-out</h1>\nYour browser didn't send a complete request in time.\n</body></html>\n"),
            ("deny", 410, b"HTTP/1.1 410 Gone\r\ncontent-length: 114\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>410 Gone</h1>\nThe resource is no longer available and will not be available again.\n</body></html>\n"),
            ("deny", 413, b"HTTP/1.1 413 Payload Too Large\r\ncontent-length: 106\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>413 Payload Too Large</h1>\nThe request entity exceeds the maximum allowed.\n</body></html>\n"),
            ("deny", 425, b"HTTP/1.1 425 Too Early\r\ncontent-length: 80\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>425 Too Early</h1>\nYour browser sent early data.\n</body></html>\n"),
            ("deny", 429, b"HTTP/1.1 429 Too Many Requests\r\ncontent-length: 117\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>429 Too Many Requests</h1>\nYou have sent too many requests in a given amount of time.\n</body></html>\n"),
            ("deny", 500, b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 97\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>500 Internal Server Error</h1>\nAn internal server error occurred.\n</body></html>\n"),
            ("deny", 501, b"HTTP/1.1 501 Not Implemented\r\ncontent-length: 136\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>501 Not Implemented</h1>\n.The server does not support the functionality required to fulfill the request.\n</body></html>\n"),
            ("deny", 502, b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 107\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>502 Bad Gateway</h1>\nThe server returned an invalid or incomplete response.\n</body></html>\n"),
            ("deny", 503, b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 107\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>503 Service Unavailable</h1>\nNo server is available to handle this request.\n</body></html>\n"),
            ("deny", 504, b"HTTP/1.1 504 Gateway Time-out\r\ncontent-length: 92\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>504 Gateway Time-out</h1>\nThe server didn't respond in time.\n</body></html>\n"),
            ("deny", 422, b"HTTP/1.1 422 Unprocessable Content\r\ncontent-length: 116\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>422 Unprocessable Content</h1>\nThe server cannot process the contained instructions.\n</body></html>\n"),
            ("raw", 400, b"HTTP/1.1 400 Bad request\r\nContent-length: 90\r\nCache-Control: no-cache\r\nConnection: close\r\nContent-Type: text/html\r\n\r\n<html><body><h1>400 Bad request</h1>\nYour browser sent an invalid request.\n</body></html>\n"),
            ("raw", 408, b"HTTP/1.1 408 Request Time-out\r\nContent-length: 110\r\nCache-Control: no-cache\r\nConnection: close\r\nContent-Type: text/html\r\n\r\n<html><body><h1>408 Request Time-out</h1>\nYour browser didn't send a complete request in time.\n</body></html>\n"),
            ("raw", 413, b"HTTP/1.1 413 Payload Too Large\r\nContent-length: 106\r\nCache-Control: no-cache\r\nContent-Type: text/html\r\n\r\n<html><body><h1>413 Payload Too Large</h1>\nThe request entity exceeds the maximum allowed.\n</body></html>\n"),
            ("raw", 422, b"HTTP/1.1 422 Unprocessable Content\r\nContent-length: 116\r\nCache-Control: no-cache\r\nContent-Type: text/html\r\n\r\n<html><body><h1>422 Unprocessable Content</h1>\nThe server cannot process the contained instructions.\n</body></html>\n"),
        ];
        for (form, code, bytes) in captured {
            let ours = if *form == "raw" {
                error_page_raw(*code)
            } else {
                error_page_htx(*code)
            };
            assert_eq!(
                String::from_utf8_lossy(ours),
                String::from_utf8_lossy(bytes),
                "{form} {code}"
            );
        }
    }
}
