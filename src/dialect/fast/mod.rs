//! The first-tier readers of the hottest event shapes (`openai` chat and completion
//! chunks, Anthropic Messages events): straight-line code over the payload's bytes that
//! either reads it exactly as the jiter path would or gives up (`None`, no error
//! payload). On giving up, the dialect reads the payload again with the generic
//! `scan::Scanner`, then jiter, whose output and errors are the reference. This file
//! holds the byte [`Cursor`] they share; `openai` and `anthropic` hold the shapes,
//! `resume` what they keep between payloads, `bytes` the string helpers.
//!
//! What the cursor accepts is a subset of what jiter accepts, with the same meaning:
//! strict JSON numbers of at most [`MAX_NUMBER_BYTES`] bytes, the literals, strings
//! without raw control bytes whose escapes jiter also accepts (lone surrogates give up),
//! containers nested at most [`MAX_DEPTH`] deep. Member names holding an escape give up.

// The outer `None` of every reader means "give up"; an inner `None` is a value's own
// absence (no more members, `null`), as in jiter's `JiterResult<Option<_>>`.
#![allow(
    clippy::option_option,
    reason = "`None` gives up; `Some(None)` is no value"
)]
// Measured: with the cursor's small methods left to the inliner, `pos` round-trips
// through memory between calls and a chat chunk takes ~220 ns instead of ~150.
#![allow(
    clippy::inline_always,
    reason = "keeps the cursor in registers; measured"
)]

pub(super) mod anthropic;
mod bytes;
pub(super) mod openai;
mod resume;

use std::borrow::Cow;

use bytes::{find_stop, simple_escape, unescape, unicode_escape};
use resume::Checkpoint;
pub(crate) use resume::Resume;

/// Longest number text read; jiter bounds integers at 4300 digits, this stays far below.
const MAX_NUMBER_BYTES: usize = 64;
/// Deepest nesting skipped; jiter's own limit (200) is far above, so it never differs.
const MAX_DEPTH: u32 = 64;

/// A forward-only reader over one payload; every method gives up with `None` on
/// anything it does not handle.
#[derive(Debug, Clone)]
pub(super) struct Cursor<'a> {
    text: &'a str,
    data: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    /// A cursor at the start of `payload`.
    pub(super) fn new(payload: &'a str) -> Self {
        Self::at(payload, 0)
    }

    /// A cursor at byte `pos` of `payload`.
    pub(super) fn at(payload: &'a str, pos: usize) -> Self {
        Self {
            text: payload,
            data: payload.as_bytes(),
            pos,
        }
    }

    /// Byte position in the payload.
    #[inline(always)]
    pub(super) fn position(&self) -> usize {
        self.pos
    }

    /// The payload's bytes from the current position on.
    #[inline(always)]
    pub(super) fn rest(&self) -> &'a [u8] {
        self.data.get(self.pos..).unwrap_or_default()
    }

    /// Skips JSON whitespace; the next byte (not consumed).
    #[inline(always)]
    pub(super) fn peek(&mut self) -> Option<u8> {
        loop {
            let b = *self.data.get(self.pos)?;
            if !matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
                return Some(b);
            }
            self.pos += 1;
        }
    }

    /// Where a string borrowed from the payload sits in it (`None` inside when there
    /// is no string); `None` when it is not borrowed from the payload.
    pub(super) fn span_of(&self, s: Option<&Cow<'_, str>>) -> Option<Option<(usize, usize)>> {
        match s {
            None => Some(None),
            Some(Cow::Borrowed(s)) => {
                let start = (s.as_ptr() as usize).checked_sub(self.text.as_ptr() as usize)?;
                let end = start + s.len();
                (end <= self.pos).then_some(Some((start, end)))
            }
            Some(Cow::Owned(_)) => None,
        }
    }

    /// Whether `s` is a non-empty string borrowed from the payload before byte `limit`:
    /// one read there, not a copy or a string from further on.
    #[allow(
        clippy::ptr_arg,
        reason = "whether the string is borrowed is the question"
    )]
    pub(super) fn borrowed_before(&self, s: &Cow<'_, str>, limit: usize) -> bool {
        let Cow::Borrowed(s) = s else {
            return false;
        };
        let start = (s.as_ptr() as usize).wrapping_sub(self.text.as_ptr() as usize);
        !s.is_empty() && start < self.text.len() && start + s.len() <= limit
    }

    /// Whether only whitespace remains.
    #[inline(always)]
    pub(super) fn at_end(&mut self) -> bool {
        self.peek().is_none()
    }

    /// A member name without escapes at the quote `peek` saw, and its colon.
    #[inline(always)]
    fn key(&mut self) -> Option<&'a [u8]> {
        let start = self.pos + 1;
        let end = find_stop(self.data, start)?;
        if *self.data.get(end)? != b'"' {
            return None;
        }
        self.pos = end + 1;
        if self.peek()? != b':' {
            return None;
        }
        self.pos += 1;
        self.data.get(start..end)
    }

    /// Enters the object whose `{` `peek` saw: its first member name, `None` if empty.
    #[inline(always)]
    pub(super) fn first_key(&mut self) -> Option<Option<&'a [u8]>> {
        self.pos += 1;
        match self.peek()? {
            b'"' => self.key().map(Some),
            b'}' => {
                self.pos += 1;
                Some(None)
            }
            _ => None,
        }
    }

    /// After a member's value: the next member name, or `None` at the object's end.
    #[inline(always)]
    pub(super) fn next_key(&mut self) -> Option<Option<&'a [u8]>> {
        match self.peek()? {
            b',' => {
                self.pos += 1;
                if self.peek()? != b'"' {
                    return None;
                }
                self.key().map(Some)
            }
            b'}' => {
                self.pos += 1;
                Some(None)
            }
            _ => None,
        }
    }

    /// Enters the array whose `[` `peek` saw: `true` when an element follows.
    #[inline(always)]
    pub(super) fn first_item(&mut self) -> Option<bool> {
        self.pos += 1;
        if self.peek()? == b']' {
            self.pos += 1;
            return Some(false);
        }
        Some(true)
    }

    /// After an array element: `true` when another one follows, `false` at the end.
    #[inline(always)]
    pub(super) fn next_item(&mut self) -> Option<bool> {
        match self.peek()? {
            // `[1,]` fails in the element's own reader: `]` starts no value.
            b',' => {
                self.pos += 1;
                Some(true)
            }
            b']' => {
                self.pos += 1;
                Some(false)
            }
            _ => None,
        }
    }

    /// Skips the string at `pos` (its quote), checking its escapes; whether it has any.
    #[inline(always)]
    fn skip_string(&mut self) -> Option<bool> {
        let mut i = self.pos + 1;
        let mut escaped = false;
        loop {
            i = find_stop(self.data, i)?;
            match *self.data.get(i)? {
                b'"' => {
                    self.pos = i + 1;
                    return Some(escaped);
                }
                b'\\' => {
                    escaped = true;
                    let letter = *self.data.get(i + 1)?;
                    i = if letter == b'u' {
                        unicode_escape(self.data, i + 1)?.1
                    } else {
                        simple_escape(letter)?;
                        i + 2
                    };
                }
                _ => return None,
            }
        }
    }

    /// The string at `pos`: borrowed from the payload unless it holds escapes.
    #[inline(always)]
    fn string(&mut self) -> Option<Cow<'a, str>> {
        let start = self.pos + 1;
        let end = find_stop(self.data, start)?;
        if *self.data.get(end)? == b'"' {
            self.pos = end + 1;
            return self.text.get(start..end).map(Cow::Borrowed);
        }
        self.escaped_string()
    }

    #[cold]
    fn escaped_string(&mut self) -> Option<Cow<'a, str>> {
        let start = self.pos + 1;
        self.skip_string()?;
        unescape(self.text.get(start..self.pos - 1)?).map(Cow::Owned)
    }

    /// The text of the strict JSON number at `pos`.
    #[inline(always)]
    fn number(&mut self) -> Option<&'a [u8]> {
        let data = self.data;
        let start = self.pos;
        let mut i = start + usize::from(data.get(start) == Some(&b'-'));
        let digits = |mut i: usize| {
            while let Some(b'0'..=b'9') = data.get(i) {
                i += 1;
            }
            i
        };
        match data.get(i)? {
            // A leading zero is a number on its own (jiter: `01` is an invalid number).
            b'0' if matches!(data.get(i + 1), Some(b'0'..=b'9')) => return None,
            b'0' => i += 1,
            b'1'..=b'9' => i = digits(i + 1),
            _ => return None,
        }
        if data.get(i) == Some(&b'.') {
            let end = digits(i + 1);
            if end == i + 1 {
                return None;
            }
            i = end;
        }
        if let Some(b'e' | b'E') = data.get(i) {
            i += 1;
            if let Some(b'+' | b'-') = data.get(i) {
                i += 1;
            }
            let end = digits(i);
            if end == i {
                return None;
            }
            i = end;
        }
        if i - start > MAX_NUMBER_BYTES {
            return None;
        }
        self.pos = i;
        data.get(start..i)
    }

    /// Consumes `literal` at `pos`.
    #[inline(always)]
    fn literal(&mut self, literal: &[u8]) -> Option<()> {
        let end = self.pos + literal.len();
        (self.data.get(self.pos..end)? == literal).then(|| self.pos = end)
    }

    /// Skips the scalar at `pos` (whitespace already eaten).
    #[inline(always)]
    fn skip_scalar(&mut self, first: u8) -> Option<()> {
        match first {
            b'"' => self.skip_string().map(drop),
            b'n' => self.literal(b"null"),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            _ => self.number().map(drop),
        }
    }

    /// Skips (and checks) the next value.
    #[inline(always)]
    pub(super) fn skip(&mut self) -> Option<()> {
        match self.peek()? {
            b @ (b'{' | b'[') => self.skip_container(b),
            b => self.skip_scalar(b),
        }
    }

    /// Skips the array or object whose first byte `open` is at `pos`, checking its
    /// grammar: one loop, the kind of each open container one bit of a stack.
    fn skip_container(&mut self, mut open: u8) -> Option<()> {
        let mut objects = 0u64;
        let mut depth = 0u32;
        loop {
            // At a value's first byte.
            if open == b'{' || open == b'[' {
                if depth >= MAX_DEPTH {
                    return None;
                }
                let object = open == b'{';
                objects = objects << 1 | u64::from(object);
                depth += 1;
                self.pos += 1;
                let first = self.peek()?;
                if first != if object { b'}' } else { b']' } {
                    if object {
                        self.member_name(first)?;
                    }
                    open = self.peek()?;
                    continue;
                }
                // Empty: closed at once.
                self.pos += 1;
                objects >>= 1;
                depth -= 1;
            } else {
                self.skip_scalar(open)?;
            }
            // After a value: close containers until a comma starts the next value.
            loop {
                if depth == 0 {
                    return Some(());
                }
                let object = objects & 1 == 1;
                match self.peek()? {
                    b',' => {
                        self.pos += 1;
                        if object {
                            let first = self.peek()?;
                            self.member_name(first)?;
                        }
                        open = self.peek()?;
                        break;
                    }
                    b'}' if object => {}
                    b']' if !object => {}
                    _ => return None,
                }
                self.pos += 1;
                objects >>= 1;
                depth -= 1;
            }
        }
    }

    /// Skips a member name (escapes allowed) whose first byte is `first`, and its colon.
    #[inline(always)]
    fn member_name(&mut self, first: u8) -> Option<()> {
        if first != b'"' {
            return None;
        }
        self.skip_string()?;
        if self.peek()? != b':' {
            return None;
        }
        self.pos += 1;
        Some(())
    }

    /// The next value when it is a string; any other value is skipped and gives `None`.
    #[inline(always)]
    pub(super) fn opt_str(&mut self) -> Option<Option<Cow<'a, str>>> {
        if self.peek()? == b'"' {
            self.string().map(Some)
        } else {
            self.skip().map(|()| None)
        }
    }

    /// The next value when it is a non-empty string; anything else gives `None`.
    #[inline(always)]
    pub(super) fn opt_text(&mut self) -> Option<Option<Cow<'a, str>>> {
        Some(self.opt_str()?.filter(|s| !s.is_empty()))
    }

    /// The next value when it is an integer that fits a `u32`; anything else gives `None`.
    #[inline(always)]
    pub(super) fn opt_u32(&mut self) -> Option<Option<u32>> {
        match self.peek()? {
            b'-' | b'0'..=b'9' => Some(super::json::parse_u32(self.number()?)),
            _ => self.skip().map(|()| None),
        }
    }

    /// The raw JSON text of the next value, or `None` when it is `null`.
    #[inline(always)]
    pub(super) fn raw_value(&mut self) -> Option<Option<&'a str>> {
        if self.peek()? == b'n' {
            return self.literal(b"null").map(|()| None);
        }
        let start = self.pos;
        self.skip()?;
        self.text.get(start..self.pos).map(Some)
    }
}
