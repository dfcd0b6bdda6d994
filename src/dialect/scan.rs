//! [`Scanner`], the fast [`JsonRead`]: one pass over a payload that handles the shapes
//! provider events are made of (objects, arrays, plain strings, short integers,
//! literals) itself, eight bytes at a time inside strings, and hands every rarer
//! construct (escaped strings, floats, nested values it skips) to jiter on the
//! remaining bytes. It never reports an error of its own: any input it is unsure about
//! fails, and the dialect then decodes the payload again with [`jiter::Jiter`], whose
//! output and error are the reference. Which fields to read is the dialects' business.

use jiter::{Jiter, JiterError, JiterErrorType, JiterResult, JsonErrorType, Peek};

use super::read::JsonRead;

/// `0x01` in every byte of a word.
const ONES: u64 = 0x0101_0101_0101_0101;
/// `0x80` in every byte of a word.
const HIGHS: u64 = 0x8080_8080_8080_8080;
/// Longest integer (digits) read without jiter's help; longer ones are delegated.
const MAX_PLAIN_DIGITS: usize = 18;

/// A forward-only reader over one payload that gives up rather than report an error.
#[derive(Debug, Clone)]
pub(crate) struct Scanner<'a> {
    data: &'a [u8],
    pos: usize,
}

/// The error of a scan that gave up at `index` (its kind is never shown to anyone).
#[cold]
fn unsure(index: usize) -> JiterError {
    JiterError {
        error_type: JiterErrorType::JsonError(JsonErrorType::EofWhileParsingValue),
        index,
    }
}

/// A mask with the high bit set in each byte of `word` that ends a plain string run: a
/// quote, a backslash, or a control character (JSON forbids them raw in strings). Bits
/// above the lowest may be false positives (borrows), so only the lowest is used.
#[inline]
fn stop_mask(word: u64) -> u64 {
    let quote = word ^ (ONES * u64::from(b'"'));
    let backslash = word ^ (ONES * u64::from(b'\\'));
    let zero_quote = quote.wrapping_sub(ONES) & !quote;
    let zero_backslash = backslash.wrapping_sub(ONES) & !backslash;
    let control = word.wrapping_sub(ONES * 0x20) & !word;
    (zero_quote | zero_backslash | control) & HIGHS
}

/// Position of the first quote, backslash or control byte at or after `i`.
#[inline]
fn find_stop(data: &[u8], mut i: usize) -> Option<usize> {
    while let Some(chunk) = data.get(i..i.wrapping_add(8)) {
        let word = u64::from_le_bytes(<[u8; 8]>::try_from(chunk).ok()?);
        let mask = stop_mask(word);
        if mask != 0 {
            return Some(i + (mask.trailing_zeros() / 8) as usize);
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

impl<'a> Scanner<'a> {
    /// A scanner at the start of `payload`.
    pub(crate) fn new(payload: &'a str) -> Self {
        Self {
            data: payload.as_bytes(),
            pos: 0,
        }
    }

    /// Skips JSON whitespace; the next byte.
    #[inline]
    fn eat_whitespace(&mut self) -> Option<u8> {
        while let Some(&b) = self.data.get(self.pos) {
            if !matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
                return Some(b);
            }
            self.pos += 1;
        }
        None
    }

    /// A jiter over the bytes from `start`, for a construct this scanner leaves to it.
    fn delegate(&self, start: usize) -> JiterResult<Jiter<'a>> {
        match self.data.get(start..) {
            Some(rest) => Ok(Jiter::new(rest)),
            None => Err(unsure(start)),
        }
    }

    /// The raw bytes of the string whose quote is at `pos`; escapes are validated by jiter.
    #[inline]
    fn string(&mut self) -> JiterResult<&'a [u8]> {
        let start = self.pos + 1;
        let end = find_stop(self.data, start).ok_or_else(|| unsure(start))?;
        if self.data.get(end) == Some(&b'"') {
            self.pos = end + 1;
            return self.data.get(start..end).ok_or_else(|| unsure(start));
        }
        self.escaped_string()
    }

    #[cold]
    fn escaped_string(&mut self) -> JiterResult<&'a [u8]> {
        let quote = self.pos;
        let mut sub = self.delegate(quote)?;
        let len = sub.known_bytes()?.len();
        self.pos = quote + sub.current_index();
        self.data
            .get(quote + 1..quote + 1 + len)
            .ok_or_else(|| unsure(quote))
    }

    /// A key (no escapes: escaped keys are left to jiter) and its colon.
    #[inline]
    fn key(&mut self) -> JiterResult<&'a [u8]> {
        let start = self.pos + 1;
        let end = find_stop(self.data, start).ok_or_else(|| unsure(start))?;
        if self.data.get(end) != Some(&b'"') {
            return Err(unsure(end));
        }
        self.pos = end + 1;
        if self.eat_whitespace() != Some(b':') {
            return Err(unsure(self.pos));
        }
        self.pos += 1;
        self.data.get(start..end).ok_or_else(|| unsure(start))
    }

    /// The JSON text of the number at `pos`: plain integers here, the rest by jiter.
    #[inline]
    fn number(&mut self, peek: Peek) -> JiterResult<&'a [u8]> {
        let start = self.pos;
        let mut i = start + usize::from(peek == Peek::Minus);
        let digits = i;
        match self.data.get(i) {
            Some(b'0') => i += 1,
            Some(b'1'..=b'9') => {
                i += 1;
                while let Some(b'0'..=b'9') = self.data.get(i) {
                    i += 1;
                }
            }
            _ => return self.other_number(peek),
        }
        // Fractions, exponents, leading zeros and long integers: jiter's rules apply.
        if i - digits > MAX_PLAIN_DIGITS
            || matches!(self.data.get(i), Some(b'.' | b'e' | b'E' | b'0'..=b'9'))
        {
            return self.other_number(peek);
        }
        self.pos = i;
        self.data.get(start..i).ok_or_else(|| unsure(start))
    }

    #[cold]
    fn other_number(&mut self, peek: Peek) -> JiterResult<&'a [u8]> {
        let start = self.pos;
        let mut sub = self.delegate(start)?;
        let len = sub.known_number_bytes(peek)?.len();
        self.pos = start + sub.current_index();
        self.data
            .get(start..start + len)
            .ok_or_else(|| unsure(start))
    }

    /// Consumes `literal` (`true`, `false`, `null`) at `pos`.
    #[inline]
    fn literal(&mut self, literal: &[u8]) -> JiterResult<()> {
        let end = self.pos + literal.len();
        if self.data.get(self.pos..end) == Some(literal) {
            self.pos = end;
            Ok(())
        } else {
            Err(unsure(self.pos))
        }
    }

    /// Skips the array or object at `pos` with jiter (same checks, same depth limit).
    #[cold]
    fn container(&mut self, peek: Peek) -> JiterResult<()> {
        let start = self.pos;
        let mut sub = self.delegate(start)?;
        sub.known_skip(peek)?;
        self.pos = start + sub.current_index();
        Ok(())
    }
}

impl JsonRead for Scanner<'_> {
    #[inline]
    fn peek(&mut self) -> JiterResult<Peek> {
        self.eat_whitespace()
            .map(Peek::new)
            .ok_or_else(|| unsure(self.pos))
    }

    #[inline]
    fn known_skip(&mut self, peek: Peek) -> JiterResult<()> {
        match peek {
            Peek::String => self.string().map(drop),
            Peek::Null => self.literal(b"null"),
            Peek::True => self.literal(b"true"),
            Peek::False => self.literal(b"false"),
            Peek::Array | Peek::Object => self.container(peek),
            _ => self.number(peek).map(drop),
        }
    }

    #[inline]
    fn known_array(&mut self) -> JiterResult<Option<Peek>> {
        self.pos += 1;
        match self.eat_whitespace() {
            Some(b']') => {
                self.pos += 1;
                Ok(None)
            }
            Some(b) => Ok(Some(Peek::new(b))),
            None => Err(unsure(self.pos)),
        }
    }

    #[inline]
    fn array_step(&mut self) -> JiterResult<Option<Peek>> {
        match self.eat_whitespace() {
            Some(b',') => {
                self.pos += 1;
                match self.eat_whitespace() {
                    Some(b']') | None => Err(unsure(self.pos)),
                    Some(b) => Ok(Some(Peek::new(b))),
                }
            }
            Some(b']') => {
                self.pos += 1;
                Ok(None)
            }
            _ => Err(unsure(self.pos)),
        }
    }

    #[inline]
    fn next_object_bytes(&mut self) -> JiterResult<Option<&[u8]>> {
        if self.eat_whitespace() != Some(b'{') {
            return Err(unsure(self.pos));
        }
        self.pos += 1;
        match self.eat_whitespace() {
            Some(b'"') => self.key().map(Some),
            Some(b'}') => {
                self.pos += 1;
                Ok(None)
            }
            _ => Err(unsure(self.pos)),
        }
    }

    #[inline]
    fn next_key_bytes(&mut self) -> JiterResult<Option<&[u8]>> {
        match self.eat_whitespace() {
            Some(b',') => {
                self.pos += 1;
                if self.eat_whitespace() == Some(b'"') {
                    self.key().map(Some)
                } else {
                    Err(unsure(self.pos))
                }
            }
            Some(b'}') => {
                self.pos += 1;
                Ok(None)
            }
            _ => Err(unsure(self.pos)),
        }
    }

    #[inline]
    fn known_bytes(&mut self) -> JiterResult<&[u8]> {
        self.string()
    }

    #[inline]
    fn known_number_bytes(&mut self, peek: Peek) -> JiterResult<&[u8]> {
        self.number(peek)
    }

    #[inline]
    fn known_bool(&mut self, peek: Peek) -> JiterResult<bool> {
        match peek {
            Peek::True => self.literal(b"true").map(|()| true),
            Peek::False => self.literal(b"false").map(|()| false),
            _ => Err(unsure(self.pos)),
        }
    }

    #[inline]
    fn known_null(&mut self) -> JiterResult<()> {
        self.literal(b"null")
    }

    #[inline]
    fn current_index(&self) -> usize {
        self.pos
    }

    #[inline]
    fn finish(&mut self) -> JiterResult<()> {
        match self.eat_whitespace() {
            None => Ok(()),
            Some(_) => Err(unsure(self.pos)),
        }
    }
}
