//! GNU parallel's shell quoting of substituted values, byte for byte.
//!
//! GNU parallel (20221122) quotes for Bourne-compatible shells like this
//! (`shell_quote_scalar_default`): a value made only of `-_.+/`, ASCII
//! letters and digits is left as is; the empty value becomes `''`;
//! anything else is wrapped in single quotes, each `'` written as
//! `'"'"'`, and a leading or trailing `''` pair removed.

/// True for the bytes GNU parallel leaves unquoted.
fn is_plain(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'+' | b'/')
}

/// Appends `value`, quoted as GNU parallel quotes it, to `out`.
pub fn quote_into(value: &[u8], out: &mut Vec<u8>) {
    if value.is_empty() {
        out.extend_from_slice(b"''");
        return;
    }
    if value.iter().all(|&b| is_plain(b)) {
        out.extend_from_slice(value);
        return;
    }
    let start = out.len();
    out.push(b'\'');
    for &b in value {
        if b == b'\'' {
            out.extend_from_slice(b"'\"'\"'");
        } else {
            out.push(b);
        }
    }
    out.push(b'\'');
    // `s/^''//; s/''$//` as GNU parallel does.
    if out[start..].starts_with(b"''") {
        out.drain(start..start + 2);
    }
    if out.len() >= start + 2 && out[start..].ends_with(b"''") {
        out.truncate(out.len() - 2);
    }
}

/// The length of `value` quoted, without building it.
pub fn quote_len(value: &[u8]) -> usize {
    if value.is_empty() {
        return 2;
    }
    if value.iter().all(|&b| is_plain(b)) {
        return value.len();
    }
    let quotes = value.iter().filter(|&&b| b == b'\'').count();
    let mut len = value.len() + 4 * quotes + 2;
    // The `''` pairs GNU parallel strips at either end.
    if value[0] == b'\'' {
        len -= 2;
    }
    if value.len() > 1 && value[value.len() - 1] == b'\'' || value == b"'" {
        len -= 2;
    }
    len
}

/// `value` quoted as GNU parallel quotes it.
pub fn quote(value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len() + 2);
    quote_into(value, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::quote;

    #[test]
    fn matches_gnu_parallel() {
        let cases: &[(&[u8], &[u8])] = &[
            (b"plain", b"plain"),
            (b"", b"''"),
            (b"a b", b"'a b'"),
            (b"it's", b"'it'\"'\"'s'"),
            (b"'", b"\"'\""),
            (b"''", b"\"'\"''\"'\""),
            (b"'a'", b"\"'\"'a'\"'\""),
            (b"$x", b"'$x'"),
            (b"\xff", b"'\xff'"),
            (b"a/b-c_d.e+f", b"a/b-c_d.e+f"),
        ];
        for (input, want) in cases {
            assert_eq!(quote(input), *want, "quoting {:?}", input);
            assert_eq!(super::quote_len(input), want.len(), "length of {:?}", input);
        }
    }
}
