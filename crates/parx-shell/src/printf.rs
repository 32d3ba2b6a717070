//! bash's `printf` for the common formats: `%s`, `%c`, `%d`/`%i`/`%u`/
//! `%o`/`%x`/`%X` on plain decimal arguments, `%%`, width, precision and
//! the `-`/`0` flags, and the format's backslash escapes. The format is
//! reused while arguments remain, as bash does. Anything else (`%b`, `%q`,
//! floats, `*` widths, hex/octal/character arguments, `-v`) is left to
//! bash, whose messages for bad input parx does not imitate.

/// Formats `args` (format first); `Err` means bash must run it.
pub(crate) fn printf(args: &[Vec<u8>]) -> Result<Vec<u8>, &'static str> {
    let args = match args.first() {
        Some(a) if a.as_slice() == b"--" => &args[1..],
        _ => args,
    };
    let Some((format, mut rest)) = args.split_first() else {
        return Err("printf without a format");
    };
    if format.first() == Some(&b'-') {
        return Err("printf option");
    }
    let mut out = Vec::new();
    loop {
        let before = rest.len();
        one_pass(format, &mut rest, &mut out)?;
        if rest.is_empty() || rest.len() == before {
            return Ok(out);
        }
    }
}

fn one_pass(format: &[u8], args: &mut &[Vec<u8>], out: &mut Vec<u8>) -> Result<(), &'static str> {
    let mut i = 0;
    let mut next_arg = || -> Option<&[u8]> {
        let (first, rest) = args.split_first()?;
        *args = rest;
        Some(first.as_slice())
    };
    while i < format.len() {
        let c = format[i];
        if c == b'\\' {
            i = escape(format, i + 1, out)?;
            continue;
        }
        if c != b'%' {
            out.push(c);
            i += 1;
            continue;
        }
        i += 1;
        if format.get(i) == Some(&b'%') {
            out.push(b'%');
            i += 1;
            continue;
        }
        let mut left = false;
        let mut zero = false;
        while let Some(&f) = format.get(i) {
            match f {
                b'-' => left = true,
                b'0' => zero = true,
                b'+' | b' ' | b'#' | b'\'' => return Err("printf flag"),
                _ => break,
            }
            i += 1;
        }
        let mut width = 0usize;
        while let Some(d) = format.get(i).filter(|d| d.is_ascii_digit()) {
            width = width
                .saturating_mul(10)
                .saturating_add(usize::from(d - b'0'));
            i += 1;
        }
        let mut precision: Option<usize> = None;
        if format.get(i) == Some(&b'.') {
            i += 1;
            let mut p = 0usize;
            while let Some(d) = format.get(i).filter(|d| d.is_ascii_digit()) {
                p = p.saturating_mul(10).saturating_add(usize::from(d - b'0'));
                i += 1;
            }
            precision = Some(p);
        }
        if width > 4096 || precision.is_some_and(|p| p > 4096) {
            return Err("printf width");
        }
        let Some(&conv) = format.get(i) else {
            return Err("printf format ends in a conversion");
        };
        i += 1;
        let body: Vec<u8> = match conv {
            b's' => {
                let a = next_arg().unwrap_or(b"");
                match precision {
                    Some(p) if p < a.len() => a[..p].to_vec(),
                    _ => a.to_vec(),
                }
            }
            b'c' => next_arg()
                .and_then(|a| a.first().copied())
                .into_iter()
                .collect(),
            b'd' | b'i' | b'u' | b'o' | b'x' | b'X' => {
                let n = integer(next_arg().unwrap_or(b""))?;
                let digits = match conv {
                    b'd' | b'i' => n.unsigned_abs().to_string(),
                    b'u' => (n as u64).to_string(),
                    b'o' => format!("{:o}", n as u64),
                    b'x' => format!("{:x}", n as u64),
                    _ => format!("{:X}", n as u64),
                };
                let neg = n < 0 && matches!(conv, b'd' | b'i');
                let mut digits = digits.into_bytes();
                if let Some(p) = precision {
                    while digits.len() < p {
                        digits.insert(0, b'0');
                    }
                    zero = false;
                }
                let mut s = Vec::new();
                if neg {
                    s.push(b'-');
                }
                if zero && !left {
                    while s.len() + digits.len() < width {
                        s.push(b'0');
                    }
                }
                s.extend_from_slice(&digits);
                s
            }
            _ => return Err("printf conversion parx does not implement"),
        };
        let pad = width.saturating_sub(body.len());
        if !left {
            out.resize(out.len() + pad, b' ');
        }
        out.extend_from_slice(&body);
        if left {
            out.resize(out.len() + pad, b' ');
        }
    }
    Ok(())
}

/// A plain decimal integer (bash also takes hex, octal and `'c`; those go
/// to bash). An empty argument is 0.
fn integer(a: &[u8]) -> Result<i64, &'static str> {
    if a.is_empty() {
        return Ok(0);
    }
    let (neg, digits) = match a.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, a),
    };
    if digits.is_empty()
        || digits.len() > 18
        || !digits.iter().all(u8::is_ascii_digit)
        || (digits.len() > 1 && digits[0] == b'0')
    {
        return Err("printf with a non-decimal number");
    }
    let n = digits
        .iter()
        .fold(0i64, |n, &d| n * 10 + i64::from(d - b'0'));
    Ok(if neg { -n } else { n })
}

/// A backslash escape in the format, starting after the `\`; returns the
/// index after it.
fn escape(f: &[u8], i: usize, out: &mut Vec<u8>) -> Result<usize, &'static str> {
    let Some(&e) = f.get(i) else {
        out.push(b'\\');
        return Ok(i);
    };
    // printf also knows `\"`, `\'` and `\?`, which `echo -e` does not.
    let simple = match e {
        b'"' | b'\'' | b'?' => Some(e),
        _ => crate::builtin::c_escape(e),
    };
    if let Some(s) = simple {
        out.push(s);
        return Ok(i + 1);
    }
    match e {
        b'0'..=b'7' => {
            let mut v: u32 = 0;
            let mut j = i;
            while j < f.len() && j < i + 3 && (b'0'..=b'7').contains(&f[j]) {
                v = v * 8 + u32::from(f[j] - b'0');
                j += 1;
            }
            out.push((v & 255) as u8);
            Ok(j)
        }
        b'x' => {
            let mut v: u32 = 0;
            let mut j = i + 1;
            while j < f.len() && j < i + 3 && f[j].is_ascii_hexdigit() {
                v = v * 16 + (f[j] as char).to_digit(16).unwrap_or(0);
                j += 1;
            }
            if j == i + 1 {
                return Err("printf \\x without digits");
            }
            out.push(v as u8);
            Ok(j)
        }
        b'u' | b'U' | b'c' => Err("printf escape parx does not implement"),
        _ => {
            out.push(b'\\');
            out.push(e);
            Ok(i + 1)
        }
    }
}
