//! The streaming-reader interface the dialects are written against: the handful of
//! jiter [`Jiter`] methods they use, as a trait. jiter implements it (the strict
//! reference reader, whose errors are the ones reported); `scan::Scanner` implements it
//! faster for well-formed payloads and gives up on anything else. Which fields to read
//! is each dialect's business; the shared helpers over this trait live in `json`.

use jiter::{Jiter, JiterResult, Peek};

/// A forward-only JSON reader with jiter's method names and meanings.
///
/// A fast reader may fail on any input it is unsure about; its caller then decodes the
/// payload again with jiter, so only jiter's errors reach users.
pub(crate) trait JsonRead {
    /// Skips whitespace and peeks at the next value's first byte.
    fn peek(&mut self) -> JiterResult<Peek>;
    /// Skips (and validates) the value `peek` starts.
    fn known_skip(&mut self, peek: Peek) -> JiterResult<()>;
    /// Skips (and validates) the next value.
    fn next_skip(&mut self) -> JiterResult<()> {
        let peek = self.peek()?;
        self.known_skip(peek)
    }
    /// Enters the array `peek` started; the peek at its first element.
    fn known_array(&mut self) -> JiterResult<Option<Peek>>;
    /// Moves past an array element's comma; the peek at the next element, `None` at `]`.
    fn array_step(&mut self) -> JiterResult<Option<Peek>>;
    /// Enters the object that must come next; its first key's raw bytes.
    fn next_object_bytes(&mut self) -> JiterResult<Option<&[u8]>>;
    /// The object's next key's raw bytes, or `None` at its end.
    fn next_key_bytes(&mut self) -> JiterResult<Option<&[u8]>>;
    /// The raw (still escaped) bytes of the string `peek` started.
    fn known_bytes(&mut self) -> JiterResult<&[u8]>;
    /// The JSON text of the number `peek` started.
    fn known_number_bytes(&mut self, peek: Peek) -> JiterResult<&[u8]>;
    /// The boolean `peek` started.
    fn known_bool(&mut self, peek: Peek) -> JiterResult<bool>;
    /// Consumes the `null` that `peek` started.
    fn known_null(&mut self) -> JiterResult<()>;
    /// Byte position in the payload.
    fn current_index(&self) -> usize;
    /// Checks that only whitespace remains.
    fn finish(&mut self) -> JiterResult<()>;
}

impl JsonRead for Jiter<'_> {
    #[inline]
    fn peek(&mut self) -> JiterResult<Peek> {
        Jiter::peek(self)
    }
    #[inline]
    fn known_skip(&mut self, peek: Peek) -> JiterResult<()> {
        Jiter::known_skip(self, peek)
    }
    #[inline]
    fn next_skip(&mut self) -> JiterResult<()> {
        Jiter::next_skip(self)
    }
    #[inline]
    fn known_array(&mut self) -> JiterResult<Option<Peek>> {
        Jiter::known_array(self)
    }
    #[inline]
    fn array_step(&mut self) -> JiterResult<Option<Peek>> {
        Jiter::array_step(self)
    }
    #[inline]
    fn next_object_bytes(&mut self) -> JiterResult<Option<&[u8]>> {
        Jiter::next_object_bytes(self)
    }
    #[inline]
    fn next_key_bytes(&mut self) -> JiterResult<Option<&[u8]>> {
        Jiter::next_key_bytes(self)
    }
    #[inline]
    fn known_bytes(&mut self) -> JiterResult<&[u8]> {
        Jiter::known_bytes(self)
    }
    #[inline]
    fn known_number_bytes(&mut self, peek: Peek) -> JiterResult<&[u8]> {
        Jiter::known_number_bytes(self, peek)
    }
    #[inline]
    fn known_bool(&mut self, peek: Peek) -> JiterResult<bool> {
        Jiter::known_bool(self, peek)
    }
    #[inline]
    fn known_null(&mut self) -> JiterResult<()> {
        Jiter::known_null(self)
    }
    #[inline]
    fn current_index(&self) -> usize {
        Jiter::current_index(self)
    }
    #[inline]
    fn finish(&mut self) -> JiterResult<()> {
        Jiter::finish(self)
    }
}
