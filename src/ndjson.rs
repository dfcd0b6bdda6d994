//! Incremental newline-delimited JSON framing (Ollama's native API): bytes in, lines
//! out, whatever the chunking. A line ends at LF (a CR before it is dropped); blank lines
//! are skipped; a line over the bound is an error; the last line may lack its LF (it is
//! dispatched by `flush`). What a line means is the dialects' business.

use std::borrow::Cow;
use std::fmt;

use memchr::memchr;

/// One complete, non-blank line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line<'a> {
    /// The line without its line end; invalid UTF-8 replaced by U+FFFD.
    pub text: Cow<'a, str>,
    /// Stream offset of the line's first byte.
    pub offset: u64,
    /// 1-based number of the line among the non-blank lines dispatched.
    pub number: u64,
}

/// Why NDJSON framing stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NdjsonError {
    /// A line is longer than `limit` bytes.
    LineTooLong {
        /// The `max_line_bytes` in force.
        limit: usize,
        /// Stream offset of the line's first byte.
        line_offset: u64,
        /// Stream offset of the first byte past the limit.
        offset: u64,
    },
}

impl NdjsonError {
    /// Stream offset where framing failed.
    pub fn offset(&self) -> u64 {
        match self {
            Self::LineTooLong { offset, .. } => *offset,
        }
    }
}

impl fmt::Display for NdjsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::LineTooLong {
                limit,
                line_offset,
                offset,
            } => write!(
                f,
                "NDJSON line starting at byte {line_offset} exceeds max_line_bytes={limit} \
                 (limit passed at byte {offset})"
            ),
        }
    }
}

impl std::error::Error for NdjsonError {}

/// An incremental NDJSON line splitter: one instance per stream.
#[derive(Debug)]
pub struct NdjsonDecoder {
    max_line_bytes: usize,
    /// Bytes of the unfinished line carried over from earlier chunks.
    tail: Vec<u8>,
    /// Stream offset of the next byte to be fed.
    consumed: u64,
    /// Non-blank lines dispatched so far.
    lines: u64,
}

impl NdjsonDecoder {
    /// A decoder that rejects lines longer than `max_line_bytes` (line end excluded).
    pub fn new(max_line_bytes: usize) -> Self {
        Self {
            max_line_bytes,
            tail: Vec::new(),
            consumed: 0,
            lines: 0,
        }
    }

    /// The bound on one line's bytes.
    pub fn max_line_bytes(&self) -> usize {
        self.max_line_bytes
    }

    /// Bytes of the stream consumed so far.
    pub fn offset(&self) -> u64 {
        self.consumed
    }

    /// Whether an unfinished line is buffered (`flush` would dispatch it).
    pub fn has_pending(&self) -> bool {
        !self.tail.is_empty()
    }

    /// Splits `chunk`, calling `sink` once per complete non-blank line, in order.
    ///
    /// # Errors
    /// [`NdjsonError::LineTooLong`] (converted into `E`) when a line outgrows the bound,
    /// or whatever the sink returns. After an error the decoder must not be fed again.
    pub fn feed<E, F>(&mut self, chunk: &[u8], mut sink: F) -> Result<(), E>
    where
        E: From<NdjsonError>,
        F: FnMut(&Line<'_>) -> Result<(), E>,
    {
        let mut rest = chunk;
        while let Some(nl) = memchr(b'\n', rest) {
            let (line, after) = rest.split_at(nl);
            let after = after.get(1..).unwrap_or_default();
            let line_offset = self.consumed - self.tail.len() as u64;
            self.consumed += nl as u64 + 1;
            if self.tail.is_empty() {
                self.check_len(line.len(), line_offset)?;
                self.dispatch(line, line_offset, &mut sink)?;
            } else {
                self.check_len(self.tail.len() + line.len(), line_offset)?;
                let mut tail = std::mem::take(&mut self.tail);
                tail.extend_from_slice(line);
                let result = self.dispatch(&tail, line_offset, &mut sink);
                tail.clear();
                self.tail = tail;
                result?;
            }
            rest = after;
        }
        let line_offset = self.consumed - self.tail.len() as u64;
        self.consumed += rest.len() as u64;
        self.check_len(self.tail.len() + rest.len(), line_offset)?;
        self.tail.extend_from_slice(rest);
        Ok(())
    }

    /// Ends the stream: dispatches an unterminated last line (unless blank), then resets
    /// for a new stream.
    ///
    /// # Errors
    /// Whatever the sink returns.
    pub fn flush<E, F>(&mut self, mut sink: F) -> Result<(), E>
    where
        F: FnMut(&Line<'_>) -> Result<(), E>,
    {
        let tail = std::mem::take(&mut self.tail);
        let line_offset = self.consumed - tail.len() as u64;
        // `consumed` stays: the stream's length is still what error messages report.
        let result = self.dispatch(&tail, line_offset, &mut sink);
        self.lines = 0;
        result
    }

    fn check_len(&self, len: usize, line_offset: u64) -> Result<(), NdjsonError> {
        if len > self.max_line_bytes {
            return Err(NdjsonError::LineTooLong {
                limit: self.max_line_bytes,
                line_offset,
                offset: line_offset + self.max_line_bytes as u64,
            });
        }
        Ok(())
    }

    fn dispatch<E, F>(&mut self, line: &[u8], offset: u64, sink: &mut F) -> Result<(), E>
    where
        F: FnMut(&Line<'_>) -> Result<(), E>,
    {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(|b| matches!(b, b' ' | b'\t' | b'\r')) {
            return Ok(());
        }
        self.lines += 1;
        sink(&Line {
            // `from_utf8` has a fast ASCII path that `from_utf8_lossy` lacks.
            text: std::str::from_utf8(line)
                .map_or_else(|_| String::from_utf8_lossy(line), Cow::Borrowed),
            offset,
            number: self.lines,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn lines(
        decoder: &mut NdjsonDecoder,
        chunks: &[&[u8]],
    ) -> Result<Vec<(String, u64)>, NdjsonError> {
        let mut out = Vec::new();
        for chunk in chunks {
            decoder.feed(chunk, |l: &Line<'_>| {
                out.push((l.text.to_string(), l.offset));
                Ok::<(), NdjsonError>(())
            })?;
        }
        decoder.flush(|l: &Line<'_>| {
            out.push((l.text.to_string(), l.offset));
            Ok::<(), NdjsonError>(())
        })?;
        Ok(out)
    }

    #[test]
    fn lines_split_at_lf_with_crlf_and_blank_lines() {
        let mut d = NdjsonDecoder::new(100);
        let got = lines(&mut d, &[b"{\"a\":1}\r\n\n  \n{\"b\"", b":2}\n{\"c\":3}"]).unwrap();
        assert_eq!(
            got,
            vec![
                ("{\"a\":1}".into(), 0),
                ("{\"b\":2}".into(), 13),
                ("{\"c\":3}".into(), 21),
            ]
        );
    }

    #[test]
    fn line_over_the_bound_is_an_error_however_split() {
        let body = b"{\"a\":1}\n0123456789ABC\n";
        let whole = lines(&mut NdjsonDecoder::new(10), &[body]).unwrap_err();
        let split = lines(&mut NdjsonDecoder::new(10), &[&body[..12], &body[12..]]).unwrap_err();
        assert_eq!(whole, split);
        assert_eq!(whole.offset(), 18);
        assert!(whole.to_string().contains("max_line_bytes=10"));
    }

    #[test]
    fn invalid_utf8_becomes_replacement_character() {
        let got = lines(&mut NdjsonDecoder::new(100), &[b"\"\xff\"\n"]).unwrap();
        assert_eq!(got[0].0, "\"\u{fffd}\"");
    }

    proptest! {
        #[test]
        fn any_split_yields_the_same_lines(
            body in proptest::collection::vec(prop_oneof![Just(b'\n'), Just(b'\r'), Just(b' '), Just(b'a'), any::<u8>()], 0..200),
            cuts in proptest::collection::vec(0usize..200, 0..10),
        ) {
            let whole = lines(&mut NdjsonDecoder::new(50), &[&body]);
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(body.len())).collect();
            cuts.sort_unstable();
            let mut chunks: Vec<&[u8]> = Vec::new();
            let mut start = 0;
            for cut in cuts {
                chunks.push(&body[start..cut]);
                start = cut;
            }
            chunks.push(&body[start..]);
            prop_assert_eq!(whole, lines(&mut NdjsonDecoder::new(50), &chunks));
        }
    }
}
