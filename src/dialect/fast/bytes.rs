//! Byte-level helpers of the first-tier readers: finding the end of a plain string run
//! eight bytes at a time, and JSON string escapes (checked and decoded exactly as jiter
//! does, lone surrogates refused). Walking the JSON is the `Cursor`'s business.

use memchr::memchr;

/// `0x01` in every byte of a word.
const ONES: u64 = 0x0101_0101_0101_0101;
/// `0x80` in every byte of a word.
const HIGHS: u64 = 0x8080_8080_8080_8080;
/// The lowest byte of `word` (little-endian) that is a quote, a backslash or a control
/// byte, as a bit index times eight; `None` when there is none. Bits above the lowest hit
/// may be false positives (borrows), so only the lowest is used.
#[inline]
fn first_stop(word: u64) -> Option<u32> {
    let quote = word ^ (ONES * u64::from(b'"'));
    let backslash = word ^ (ONES * u64::from(b'\\'));
    let zero_quote = quote.wrapping_sub(ONES) & !quote;
    let zero_backslash = backslash.wrapping_sub(ONES) & !backslash;
    let control = word.wrapping_sub(ONES * 0x20) & !word;
    let mask = (zero_quote | zero_backslash | control) & HIGHS;
    (mask != 0).then(|| mask.trailing_zeros() / 8)
}

/// Position of the first quote, backslash or control byte at or after `i`.
#[inline]
pub(super) fn find_stop(data: &[u8], mut i: usize) -> Option<usize> {
    while let Some(chunk) = data.get(i..i.wrapping_add(8)) {
        let word = u64::from_le_bytes(<[u8; 8]>::try_from(chunk).ok()?);
        if let Some(at) = first_stop(word) {
            return Some(i + at as usize);
        }
        i += 8;
    }
    while let Some(&b) = data.get(i) {
        if b == b'"' || b == b'\\' || b < 0x20 {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// The value of four hex digits.
#[inline]
fn hex4(digits: &[u8]) -> Option<u32> {
    digits.iter().try_fold(0u32, |n, &c| {
        let d = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            b'A'..=b'F' => c - b'A' + 10,
            _ => return None,
        };
        Some(n << 4 | u32::from(d))
    })
}

/// The character of the `\u` escape whose `u` is at `i`, and the index just past it; a
/// surrogate pair counts as one escape and a lone surrogate gives up, as in jiter.
#[inline]
pub(super) fn unicode_escape(data: &[u8], i: usize) -> Option<(char, usize)> {
    let n = hex4(data.get(i + 1..i + 5)?)?;
    match n {
        0xD800..=0xDBFF => {
            if data.get(i + 5..i + 7)? != b"\\u" {
                return None;
            }
            let low = hex4(data.get(i + 7..i + 11)?)?;
            if !(0xDC00..=0xDFFF).contains(&low) {
                return None;
            }
            let c = char::from_u32((((n - 0xD800) << 10) | (low - 0xDC00)) + 0x1_0000)?;
            Some((c, i + 11))
        }
        0xDC00..=0xDFFF => None,
        _ => Some((char::from_u32(n)?, i + 5)),
    }
}

/// The character a one-letter escape stands for.
#[inline]
pub(super) fn simple_escape(letter: u8) -> Option<char> {
    Some(match letter {
        b'"' => '"',
        b'\\' => '\\',
        b'/' => '/',
        b'b' => '\u{8}',
        b'f' => '\u{c}',
        b'n' => '\n',
        b'r' => '\r',
        b't' => '\t',
        _ => return None,
    })
}

/// Decodes the inside of a string literal whose escapes all jiter accepts.
#[cold]
pub(super) fn unescape(inner: &str) -> Option<String> {
    let bytes = inner.as_bytes();
    let mut out = String::with_capacity(inner.len());
    let mut i = 0;
    while let Some(at) = memchr(b'\\', bytes.get(i..)?) {
        let slash = i + at;
        out.push_str(inner.get(i..slash)?);
        let letter = *bytes.get(slash + 1)?;
        if letter == b'u' {
            let (c, next) = unicode_escape(bytes, slash + 1)?;
            out.push(c);
            i = next;
        } else {
            out.push(simple_escape(letter)?);
            i = slash + 2;
        }
    }
    out.push_str(inner.get(i..)?);
    Some(out)
}
