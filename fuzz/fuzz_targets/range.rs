//! Fuzzes the `Range` header resolution (RFC 9110 §14): any header value against any size
//! must resolve without panicking to well-formed ranges.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (&str, u64)| {
    let (header, size) = input;
    kino::http::ranges::check_invariants(header, size);
});
