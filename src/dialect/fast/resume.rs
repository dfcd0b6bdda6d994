//! [`Resume`]: what a first-tier reader keeps between the payloads of one stream so
//! that it can start reading a payload where the previous one's envelope ended. Which
//! states may be recorded, and reading on from them, is each shape's business.

/// Where the stream's previous payload can be taken up again: its bytes before a
/// checkpoint (just past the member name of the text the event carries) and what had
/// been read by then. Events of one stream mostly repeat the same envelope (id, model,
/// created, ...) before their text: a payload starting with the same bytes leaves the
/// reader in the same state at the checkpoint, so reading can start there. Which states
/// may be recorded is each shape's business.
#[derive(Debug, Default, Clone)]
pub(crate) struct Resume {
    /// The previous payload's bytes before the checkpoint; empty when there is none.
    prefix: Vec<u8>,
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
        }
        self.shape = shape;
        self.read = read;
    }
}
