//! Brotli decoding with bounded output per call: brotli can expand a few bytes into
//! megabytes, so the writer-style decoder (all output for the input given) would let a
//! 1 MiB bomb become 1 GiB in one buffer. This one stops when its output buffer is full
//! and says so ([`BrotliStream::has_more_output`]); the caller hands the output on
//! before asking for more.

use brotli_decompressor::{BrotliDecompressStream, BrotliResult, BrotliState, StandardAlloc};

/// Most decoded bytes one call returns.
pub const MAX_OUTPUT: usize = 64 * 1024;

/// A streaming brotli decoder; see the module docs.
pub struct BrotliStream {
    state: Box<BrotliState<StandardAlloc, StandardAlloc, StandardAlloc>>,
    more_output: bool,
    finished: bool,
}

impl BrotliStream {
    /// A decoder at the start of a stream.
    pub fn new() -> Self {
        Self {
            state: Box::new(BrotliState::new(
                StandardAlloc::default(),
                StandardAlloc::default(),
                StandardAlloc::default(),
            )),
            more_output: false,
            finished: false,
        }
    }

    /// Whether output is waiting that the last call had no room for (call again, with
    /// the input it did not consume, or none).
    pub fn has_more_output(&self) -> bool {
        self.more_output
    }

    /// Decodes from `input` until the output (at most [`MAX_OUTPUT`] bytes, less for
    /// small inputs) is full or the input is used up; returns the input bytes consumed
    /// and the output. Bytes after the end of the brotli stream are ignored.
    ///
    /// # Errors
    /// A message when the bytes are not valid brotli.
    pub fn decode(&mut self, input: &[u8]) -> Result<(usize, Vec<u8>), String> {
        if self.finished {
            return Ok((input.len(), Vec::new()));
        }
        let limit = input.len().saturating_mul(16).clamp(4096, MAX_OUTPUT);
        let mut out = vec![0; limit];
        let (mut available_in, mut input_offset) = (input.len(), 0);
        let (mut available_out, mut output_offset, mut total_out) = (limit, 0, 0);
        let result = BrotliDecompressStream(
            &mut available_in,
            &mut input_offset,
            input,
            &mut available_out,
            &mut output_offset,
            &mut out,
            &mut total_out,
            &mut self.state,
        );
        out.truncate(output_offset);
        self.more_output = matches!(result, BrotliResult::NeedsMoreOutput);
        match result {
            BrotliResult::ResultFailure => Err("invalid br data".to_owned()),
            BrotliResult::ResultSuccess => {
                self.finished = true;
                Ok((input.len(), out))
            }
            BrotliResult::NeedsMoreInput | BrotliResult::NeedsMoreOutput => Ok((input_offset, out)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 8 MiB of b'x', compressed by brotli's reference encoder (quality 11).
    const BOMB: &[u8] = include_bytes!("testdata/x-8mib.br");

    #[test]
    fn a_bomb_comes_out_a_bounded_piece_at_a_time() {
        assert!(BOMB.len() < 1024, "{} bytes", BOMB.len());
        let mut stream = BrotliStream::new();
        let (mut rest, mut total, mut calls) = (BOMB, 0, 0);
        loop {
            let (used, out) = stream.decode(rest).unwrap();
            assert!(out.len() <= MAX_OUTPUT);
            assert!(out.iter().all(|&b| b == b'x'));
            total += out.len();
            calls += 1;
            rest = &rest[used..];
            if rest.is_empty() && !stream.has_more_output() {
                break;
            }
        }
        assert_eq!(total, 8 << 20);
        assert!(calls >= (8 << 20) / MAX_OUTPUT);
    }

    #[test]
    fn byte_by_byte_input_decodes_the_same() {
        let mut stream = BrotliStream::new();
        let mut total = 0;
        for byte in BOMB.chunks(1) {
            let mut rest = byte;
            loop {
                let (used, out) = stream.decode(rest).unwrap();
                total += out.len();
                rest = &rest[used..];
                if rest.is_empty() && !stream.has_more_output() {
                    break;
                }
            }
        }
        assert_eq!(total, 8 << 20);
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(BrotliStream::new().decode(&[0xff; 64]).is_err());
    }
}
