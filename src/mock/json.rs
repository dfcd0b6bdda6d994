//! Writing JSON by hand: string escaping and number formatting into a byte buffer. The
//! mock server builds every payload with these (no serde); reading request bodies is
//! `request.rs`'s job, with jiter.

use std::io::Write as _;

/// Appends `s` as a JSON string literal (quotes included), escaping per RFC 8259 §7.
pub(crate) fn push_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    push_escaped(out, s);
    out.push(b'"');
}

/// Appends the escaped contents of `s`, without quotes.
pub(crate) fn push_escaped(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f => {
                out.extend_from_slice(&bytes[start..i]);
                let _ = write!(out, "\\u{b:04x}");
                start = i + 1;
                continue;
            }
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        out.extend_from_slice(esc);
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
}

/// Appends an unsigned integer.
pub(crate) fn push_u64(out: &mut Vec<u8>, n: u64) {
    let _ = write!(out, "{n}");
}

/// Appends `"key":` (the key must need no escaping).
pub(crate) fn push_key(out: &mut Vec<u8>, key: &str) {
    out.push(b'"');
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(b"\":");
}

/// A buffer capacity for `base` bytes plus `tokens` short tokens (bounded guess).
pub(crate) fn capacity(base: usize, tokens: u64) -> usize {
    usize::try_from(tokens)
        .unwrap_or(0)
        .saturating_mul(8)
        .min(1 << 24)
        .saturating_add(base)
}

/// Escapes `s` into a new string: used where a JSON text is itself sent as a string.
pub(crate) fn escaped(s: &str) -> String {
    let mut out = Vec::with_capacity(s.len() + 2);
    push_escaped(&mut out, s);
    String::from_utf8(out).unwrap_or_default()
}

/// Formats a unix time in nanoseconds as RFC 3339 UTC with nanoseconds, as Ollama's
/// `created_at` (`2024-09-30T09:02:00.484512914Z`).
pub(crate) fn rfc3339_nanos(unix_ns: u128) -> String {
    let secs = u64::try_from(unix_ns / 1_000_000_000).unwrap_or(0);
    let nanos = unix_ns % 1_000_000_000;
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{nanos:09}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// Howard Hinnant's days-to-civil algorithm (proleptic Gregorian calendar).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    (
        y,
        u32::try_from(m).unwrap_or(1),
        u32::try_from(d).unwrap_or(1),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_quotes_controls_and_keeps_unicode() {
        let mut out = Vec::new();
        push_str(&mut out, "a\"b\\c\nd\u{1}é🥂");
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\"a\\\"b\\\\c\\nd\\u0001é🥂\""
        );
    }

    #[test]
    fn formats_rfc3339_with_nanos() {
        assert_eq!(
            rfc3339_nanos(1_727_686_920_484_512_914),
            "2024-09-30T09:02:00.484512914Z"
        );
        assert_eq!(rfc3339_nanos(0), "1970-01-01T00:00:00.000000000Z");
    }
}
