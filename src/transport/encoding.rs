//! Content decoding for readers that decode bodies in Rust (`Content-Encoding: gzip`, `deflate`, `br`),
//! streaming: each chunk's decoded bytes are available as soon as the chunk is fed, so
//! compression adds no latency. Zlib-wrapped and raw deflate are both accepted, as httpx
//! accepts them. The plain byte path leaves decoding to httpx.

use std::fmt;
use std::io::Write;

use flate2::write::{DeflateDecoder, MultiGzDecoder, ZlibDecoder};

use super::brotli_stream::BrotliStream;

/// A `Content-Encoding` a Rust reader can decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentEncoding {
    /// No encoding (absent header or `identity`).
    Identity,
    /// `gzip` / `x-gzip`.
    Gzip,
    /// `deflate` (zlib-wrapped or raw).
    Deflate,
    /// `br`.
    Brotli,
}

/// A `Content-Encoding` value a Rust reader cannot decode (several codings, `zstd`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsupportedEncoding(pub String);

impl fmt::Display for UnsupportedEncoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unsupported content-encoding {:?}: expected gzip, deflate, br or identity",
            self.0
        )
    }
}

impl std::error::Error for UnsupportedEncoding {}

impl ContentEncoding {
    /// Parses a `Content-Encoding` header value (`None`: no header).
    ///
    /// # Errors
    /// [`UnsupportedEncoding`] for anything but one of the four codings.
    pub fn from_header(value: Option<&[u8]>) -> Result<Self, UnsupportedEncoding> {
        let Some(value) = value else {
            return Ok(Self::Identity);
        };
        let text = String::from_utf8_lossy(value);
        match text.trim().to_ascii_lowercase().as_str() {
            "" | "identity" => Ok(Self::Identity),
            "gzip" | "x-gzip" => Ok(Self::Gzip),
            "deflate" => Ok(Self::Deflate),
            "br" => Ok(Self::Brotli),
            _ => Err(UnsupportedEncoding(text.into_owned())),
        }
    }
}

enum Inner {
    Identity,
    Gzip(MultiGzDecoder<Vec<u8>>),
    /// Deflate before its first two bytes say whether a zlib header is there.
    DeflateSniff(Vec<u8>),
    Zlib(ZlibDecoder<Vec<u8>>),
    RawDeflate(DeflateDecoder<Vec<u8>>),
    Brotli(Box<BrotliStream>),
}

/// A streaming decoder for one response body.
pub struct Decoder {
    inner: Inner,
}

/// Whether `head` starts a zlib stream (RFC 1950: CM 8, header checksum).
fn is_zlib_header(head: [u8; 2]) -> bool {
    head[0] & 0x0f == 8 && (u16::from(head[0]) << 8 | u16::from(head[1])) % 31 == 0
}

impl Decoder {
    /// A decoder for `encoding`.
    pub fn new(encoding: ContentEncoding) -> Self {
        let inner = match encoding {
            ContentEncoding::Identity => Inner::Identity,
            ContentEncoding::Gzip => Inner::Gzip(MultiGzDecoder::new(Vec::new())),
            ContentEncoding::Deflate => Inner::DeflateSniff(Vec::new()),
            ContentEncoding::Brotli => Inner::Brotli(Box::new(BrotliStream::new())),
        };
        Self { inner }
    }

    /// Whether bytes pass through unchanged.
    pub fn is_identity(&self) -> bool {
        matches!(self.inner, Inner::Identity)
    }

    /// Whether decoded bytes are waiting that the last [`Decoder::feed_some`] had no
    /// room for (brotli only; call it again).
    pub fn has_more_output(&self) -> bool {
        matches!(&self.inner, Inner::Brotli(b) if b.has_more_output())
    }

    /// Decodes from `input` with bounded output; returns the input bytes consumed and the
    /// output. gzip and deflate consume all of `input` (so callers bound their output by
    /// feeding small slices: they expand at most ~1000x); brotli stops at 64 KiB of
    /// output.
    ///
    /// # Errors
    /// A message when the bytes are not valid for the encoding.
    pub fn feed_some(&mut self, input: &[u8]) -> Result<(usize, Vec<u8>), String> {
        match &mut self.inner {
            Inner::Brotli(b) => b.decode(input),
            _ => self.feed(input).map(|out| (input.len(), out)),
        }
    }

    /// Decodes `input`; returns all the bytes it yields now (unbounded: see
    /// [`Decoder::feed_some`]).
    ///
    /// # Errors
    /// A message when the bytes are not valid for the encoding.
    pub fn feed(&mut self, input: &[u8]) -> Result<Vec<u8>, String> {
        if let Inner::Brotli(b) = &mut self.inner {
            let (mut rest, mut out) = (input, Vec::new());
            loop {
                let (used, piece) = b.decode(rest)?;
                out.extend(piece);
                rest = &rest[used..];
                if rest.is_empty() && !b.has_more_output() {
                    return Ok(out);
                }
            }
        }
        if let Inner::DeflateSniff(head) = &mut self.inner {
            head.extend_from_slice(input);
            if head.len() < 2 {
                return Ok(Vec::new());
            }
            let head = std::mem::take(head);
            self.inner = if is_zlib_header([head[0], head[1]]) {
                Inner::Zlib(ZlibDecoder::new(Vec::new()))
            } else {
                Inner::RawDeflate(DeflateDecoder::new(Vec::new()))
            };
            return self.feed(&head);
        }
        let result = match &mut self.inner {
            Inner::Identity => return Ok(input.to_vec()),
            Inner::DeflateSniff(_) | Inner::Brotli(_) => Ok(()),
            Inner::Gzip(d) => d.write_all(input).and_then(|()| d.flush()),
            Inner::Zlib(d) => d.write_all(input).and_then(|()| d.flush()),
            Inner::RawDeflate(d) => d.write_all(input).and_then(|()| d.flush()),
        };
        result.map_err(|err| format!("invalid {} data: {err}", self.name()))?;
        Ok(self.take_output())
    }

    /// Ends the stream; returns the last decoded bytes.
    ///
    /// # Errors
    /// A message when the stream is cut short in a way the decoder detects.
    pub fn finish(&mut self) -> Result<Vec<u8>, String> {
        if let Inner::DeflateSniff(head) = &mut self.inner {
            if head.is_empty() {
                return Ok(Vec::new());
            }
            let head = std::mem::take(head);
            self.inner = Inner::RawDeflate(DeflateDecoder::new(Vec::new()));
            let mut out = self.feed(&head)?;
            out.extend(self.finish()?);
            return Ok(out);
        }
        let result = match &mut self.inner {
            Inner::Identity | Inner::DeflateSniff(_) | Inner::Brotli(_) => Ok(()),
            Inner::Gzip(d) => d.try_finish(),
            Inner::Zlib(d) => d.try_finish(),
            Inner::RawDeflate(d) => d.try_finish(),
        };
        result.map_err(|err| format!("invalid {} data at the end: {err}", self.name()))?;
        Ok(self.take_output())
    }

    fn take_output(&mut self) -> Vec<u8> {
        match &mut self.inner {
            Inner::Identity | Inner::DeflateSniff(_) | Inner::Brotli(_) => Vec::new(),
            Inner::Gzip(d) => std::mem::take(d.get_mut()),
            Inner::Zlib(d) => std::mem::take(d.get_mut()),
            Inner::RawDeflate(d) => std::mem::take(d.get_mut()),
        }
    }

    fn name(&self) -> &'static str {
        match self.inner {
            Inner::Identity => "identity",
            Inner::Gzip(_) => "gzip",
            Inner::DeflateSniff(_) | Inner::Zlib(_) | Inner::RawDeflate(_) => "deflate",
            Inner::Brotli(_) => "br",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::{DeflateEncoder, GzEncoder, ZlibEncoder};
    use flate2::Compression;

    const TEXT: &[u8] = b"data: {\"choices\":[{\"delta\":{\"content\":\"hi\"}}]}\n\n";

    fn decode_split(encoding: ContentEncoding, data: &[u8]) -> Vec<u8> {
        let mut d = Decoder::new(encoding);
        let mut out = Vec::new();
        for byte in data.chunks(1) {
            out.extend(d.feed(byte).unwrap());
        }
        out.extend(d.finish().unwrap());
        out
    }

    #[test]
    fn gzip_zlib_and_raw_deflate_decode_byte_by_byte() {
        let mut gz = GzEncoder::new(Vec::new(), Compression::default());
        gz.write_all(TEXT).unwrap();
        assert_eq!(
            decode_split(ContentEncoding::Gzip, &gz.finish().unwrap()),
            TEXT
        );
        let mut z = ZlibEncoder::new(Vec::new(), Compression::default());
        z.write_all(TEXT).unwrap();
        assert_eq!(
            decode_split(ContentEncoding::Deflate, &z.finish().unwrap()),
            TEXT
        );
        let mut raw = DeflateEncoder::new(Vec::new(), Compression::default());
        raw.write_all(TEXT).unwrap();
        assert_eq!(
            decode_split(ContentEncoding::Deflate, &raw.finish().unwrap()),
            TEXT
        );
    }

    #[test]
    fn a_flushed_gzip_chunk_decodes_before_the_stream_ends() {
        let mut gz = GzEncoder::new(Vec::new(), Compression::default());
        gz.write_all(TEXT).unwrap();
        gz.flush().unwrap();
        let first = std::mem::take(gz.get_mut());
        let mut d = Decoder::new(ContentEncoding::Gzip);
        assert_eq!(d.feed(&first).unwrap(), TEXT);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let mut d = Decoder::new(ContentEncoding::Gzip);
        assert!(d.feed(b"definitely not gzip").is_err());
        let mut d = Decoder::new(ContentEncoding::Brotli);
        let _ = d.feed(&[0xff; 64]);
        let _ = d.finish();
    }

    #[test]
    fn header_values_parse() {
        assert_eq!(
            ContentEncoding::from_header(None),
            Ok(ContentEncoding::Identity)
        );
        assert_eq!(
            ContentEncoding::from_header(Some(b" GZIP ")),
            Ok(ContentEncoding::Gzip)
        );
        assert_eq!(
            ContentEncoding::from_header(Some(b"br")),
            Ok(ContentEncoding::Brotli)
        );
        assert!(ContentEncoding::from_header(Some(b"zstd")).is_err());
    }
}
