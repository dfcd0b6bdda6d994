//! [`Resume`]: what a first-tier reader keeps between the payloads of one stream so
//! that it can start reading a payload where the previous one's envelope ended. Which
//! states may be recorded, and reading on from them, is each shape's business.

use crate::sse::same_bytes;

/// Where the stream's previous payload can be taken up again: its bytes before a
/// checkpoint (just past the member name of the text the event carries) and what had
/// been read by then. Events of one stream mostly repeat the same envelope (id, model,
/// created, ...) before their text: a payload starting with the same bytes leaves the
/// reader in the same state at the checkpoint, so reading can start there. Which states
/// may be recorded is each shape's business.
///
/// Past the text, events mostly repeat their envelope's end as well: a payload whose
/// bytes after the text equal a recorded *plain tail* (one whose reading, from the
/// checkpoint, added nothing to it) reads as the checkpoint plus the text.
#[derive(Debug, Default, Clone)]
pub(crate) struct Resume {
    /// The previous payload's bytes before the checkpoint; empty when there is none.
    prefix: Vec<u8>,
    /// The bytes after the text of a payload read on from this checkpoint that added
    /// nothing to it; `None` until one is seen.
    plain_tail: Option<Vec<u8>>,
    /// What a plain reading means, in the recording shape's terms.
    plain_kind: u8,
    /// Which shape recorded it (a tag of its own choosing).
    shape: u8,
    /// What had been read by the checkpoint.
    read: Checkpoint,
}

/// What a shape had read at a checkpoint, besides its position.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Checkpoint {
    /// The token index.
    pub(super) index: Option<u32>,
    /// Strings without escapes, as `start..end` in the prefix.
    pub(super) spans: [Option<(usize, usize)>; 2],
}

impl Resume {
    /// The checkpoint's position and reading when `payload` starts with the prefix that
    /// `shape` recorded.
    #[inline(always)]
    pub(crate) fn matches(&self, payload: &str, shape: u8) -> Option<(usize, Checkpoint)> {
        let n = self.prefix.len();
        let same = n != 0 && self.shape == shape && payload.as_bytes().get(..n)? == self.prefix;
        same.then_some((n, self.read))
    }

    /// Records the checkpoint at `pos` of `payload`.
    #[cold]
    pub(super) fn record(&mut self, payload: &str, pos: usize, shape: u8, read: Checkpoint) {
        let Some(prefix) = payload.as_bytes().get(..pos) else {
            return;
        };
        if self.prefix != prefix {
            self.prefix.clear();
            self.prefix.extend_from_slice(prefix);
            self.plain_tail = None;
        }
        if self.shape != shape || self.read != read {
            self.plain_tail = None;
        }
        self.shape = shape;
        self.read = read;
    }

    /// Whether `tail` (a payload's bytes after its text, read on from the current
    /// checkpoint) is the recorded plain tail: reading it would add nothing.
    #[inline(always)]
    pub(crate) fn is_plain_tail(&self, tail: &[u8]) -> bool {
        self.plain_tail
            .as_deref()
            .is_some_and(|kept| same_bytes(kept, tail))
    }

    /// What a plain reading means (the `kind` recorded with the plain tail); 0 when
    /// there is none.
    #[inline(always)]
    pub(crate) fn plain_kind(&self) -> u8 {
        if self.plain_tail.is_some() {
            self.plain_kind
        } else {
            0
        }
    }

    /// Records `tail` as plain: read on from the current checkpoint, it added nothing;
    /// `kind` says what such a reading means, in the shape's own terms.
    #[cold]
    pub(super) fn record_plain_tail(&mut self, tail: &[u8], kind: u8) {
        let kept = self.plain_tail.get_or_insert_with(Vec::new);
        kept.clear();
        kept.extend_from_slice(tail);
        self.plain_kind = kind;
    }
}
