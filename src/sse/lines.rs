//! Line splitting for the SSE decoder: finds CRLF, LF and lone CR line ends across
//! chunk boundaries, strips the stream's leading BOM, keeps the unfinished tail line,
//! and enforces the bound on one event's bytes. Field meaning is left to `fields`.

use memchr::memchr2;

use super::SseError;

/// The UTF-8 byte order mark; WHATWG SSE: one leading BOM is stripped at stream start.
const BOM: &[u8; 3] = b"\xEF\xBB\xBF";

/// One complete line, without its line end.
#[derive(Debug, Clone, Copy)]
pub struct Line<'a> {
    /// The line's bytes.
    pub text: &'a [u8],
    /// Where the line starts in the chunk being fed, when it lies wholly inside it
    /// (then `text` borrows the chunk); `None` when it was assembled across chunks.
    pub chunk_start: Option<usize>,
    /// Stream offset of the line's first byte.
    pub offset: u64,
}

/// Splits a byte stream into lines, chunk by chunk.
#[derive(Debug)]
pub struct LineSplitter {
    max_event_bytes: usize,
    /// Bytes of the unfinished line carried over from earlier chunks.
    tail: Vec<u8>,
    /// Whether a line is open (its bytes are in `tail`, possibly none yet).
    partial: bool,
    /// Stream offset of the open line's first byte.
    tail_offset: u64,
    /// The previous chunk ended with CR: an LF opening this chunk belongs to that line end.
    after_cr: bool,
    /// How many bytes of a leading BOM have been seen; `None` once past the stream start.
    bom_seen: Option<usize>,
    /// Bytes of the complete lines of the event being built (line ends excluded).
    event_bytes: usize,
    /// Stream offset of the current event's first line.
    event_offset: u64,
    /// Stream offset of the next byte to be fed.
    consumed: u64,
}

impl LineSplitter {
    /// A splitter bounding each event to `max_event_bytes` bytes of lines.
    pub fn new(max_event_bytes: usize) -> Self {
        Self {
            max_event_bytes,
            tail: Vec::new(),
            partial: false,
            tail_offset: 0,
            after_cr: false,
            bom_seen: Some(0),
            event_bytes: 0,
            event_offset: 0,
            consumed: 0,
        }
    }

    /// The bound on one event's bytes.
    pub fn max_event_bytes(&self) -> usize {
        self.max_event_bytes
    }

    /// Stream offset of the next byte to be fed.
    pub fn offset(&self) -> u64 {
        self.consumed
    }

    /// Whether a line is open across chunks.
    pub fn has_partial_line(&self) -> bool {
        self.partial && !self.tail.is_empty()
    }

    /// Forgets the open line and event and starts over as at a new stream's start.
    /// The stream offset keeps counting.
    pub fn reset(&mut self) {
        self.tail.clear();
        self.tail.shrink_to(64 * 1024);
        self.partial = false;
        self.after_cr = false;
        self.bom_seen = Some(0);
        self.event_bytes = 0;
    }

    /// Splits `chunk` into lines, calling `on_line` for each complete one in order.
    /// A blank line (empty `text`) ends an event.
    pub fn split<E, F>(&mut self, chunk: &[u8], mut on_line: F) -> Result<(), E>
    where
        E: From<SseError>,
        F: FnMut(Line<'_>) -> Result<(), E>,
    {
        let base = self.consumed;
        let mut pos = self.skip_bom(chunk);
        if pos < chunk.len() && self.after_cr {
            // WHATWG SSE: CRLF is one line end, even when the CR ended the previous chunk.
            if chunk[pos] == b'\n' {
                pos += 1;
            }
            self.after_cr = false;
        }
        if self.partial && pos < chunk.len() {
            let rest = &chunk[pos..];
            let Some(end) = memchr2(b'\n', b'\r', rest) else {
                self.check_limit(self.tail_offset, self.tail.len() + rest.len())?;
                self.tail.extend_from_slice(rest);
                self.consumed = base + chunk.len() as u64;
                return Ok(());
            };
            self.check_limit(self.tail_offset, self.tail.len() + end)?;
            self.tail.extend_from_slice(&rest[..end]);
            let tail = std::mem::take(&mut self.tail);
            self.partial = false;
            let result = self.complete_line(&tail, None, self.tail_offset, &mut on_line);
            self.tail = tail;
            self.tail.clear();
            result?;
            pos = self.skip_line_end(chunk, pos + end);
        }
        while pos < chunk.len() {
            let rest = &chunk[pos..];
            let line_offset = base + pos as u64;
            // A blank line (the end of every event) needs no search.
            let end = if matches!(rest[0], b'\n' | b'\r') {
                Some(0)
            } else {
                memchr2(b'\n', b'\r', rest)
            };
            let Some(end) = end else {
                // An unfinished line: keep it for the next chunk.
                self.start_event_at(line_offset);
                self.check_limit(line_offset, rest.len())?;
                self.tail.extend_from_slice(rest);
                self.partial = true;
                self.tail_offset = line_offset;
                break;
            };
            self.complete_line(&rest[..end], Some(pos), line_offset, &mut on_line)?;
            pos = self.skip_line_end(chunk, pos + end);
        }
        self.consumed = base + chunk.len() as u64;
        Ok(())
    }

    /// Handles one whole line: bounds it, then hands it on.
    fn complete_line<E, F>(
        &mut self,
        text: &[u8],
        chunk_start: Option<usize>,
        offset: u64,
        on_line: &mut F,
    ) -> Result<(), E>
    where
        E: From<SseError>,
        F: FnMut(Line<'_>) -> Result<(), E>,
    {
        if text.is_empty() {
            self.event_bytes = 0;
        } else {
            self.start_event_at(offset);
            self.check_limit(offset, text.len())?;
            self.event_bytes += text.len();
        }
        on_line(Line {
            text,
            chunk_start,
            offset,
        })
    }

    /// Records where the event begins when `offset` starts its first line.
    fn start_event_at(&mut self, offset: u64) {
        if self.event_bytes == 0 && !self.partial {
            self.event_offset = offset;
        }
    }

    /// Fails when a line of `line_bytes` bytes starting at stream offset `line_offset`
    /// would outgrow the event bound; the error names the first byte past the limit.
    fn check_limit(&self, line_offset: u64, line_bytes: usize) -> Result<(), SseError> {
        let room = self.max_event_bytes.saturating_sub(self.event_bytes);
        if line_bytes <= room {
            return Ok(());
        }
        Err(SseError::EventTooLarge {
            limit: self.max_event_bytes,
            event_offset: self.event_offset,
            offset: line_offset + room as u64,
        })
    }

    /// Moves past the line end at `at` (CR, LF or CRLF) and returns the next position.
    fn skip_line_end(&mut self, chunk: &[u8], at: usize) -> usize {
        if chunk[at] == b'\r' {
            match chunk.get(at + 1) {
                Some(b'\n') => return at + 2,
                None => self.after_cr = true,
                Some(_) => {}
            }
        }
        at + 1
    }

    /// Strips a leading BOM, also when it arrives split across chunks; returns where the
    /// stream's content starts in `chunk`.
    fn skip_bom(&mut self, chunk: &[u8]) -> usize {
        let Some(seen) = self.bom_seen else {
            return 0;
        };
        let want = &BOM[seen..];
        let matched = chunk.iter().zip(want).take_while(|(a, b)| a == b).count();
        if matched == want.len() {
            self.bom_seen = None;
            return matched;
        }
        if matched == chunk.len() {
            // Still a prefix of the BOM: wait for more bytes.
            self.bom_seen = Some(seen + matched);
            return chunk.len();
        }
        // Not a BOM after all: the bytes held back are the start of the first line.
        self.bom_seen = None;
        if seen > 0 {
            self.tail.extend_from_slice(&BOM[..seen]);
            self.partial = true;
            self.tail_offset = self.consumed - seen as u64;
            self.event_offset = self.tail_offset;
        }
        0
    }
}
