"""Streaming compressors for tests: each piece of a body compressed and flushed on its
own, so that a server can send one ``Content-Encoding`` body as several pieces, each
decodable as soon as it arrives."""

from __future__ import annotations

import zlib

import brotli

#: The content encodings the transport's fused path decodes in Rust and httpx decodes
#: on the plain path.
ENCODINGS = ["gzip", "br", "deflate"]


def compressed_pieces(pieces: list[bytes], encoding: str) -> list[bytes]:
    """``pieces`` compressed as one stream in ``encoding``, flushed after each piece; the
    last item ends the stream (it may be empty for nothing but the trailer)."""
    out: list[bytes] = []
    if encoding == "br":
        compressor = brotli.Compressor()
        for piece in pieces:
            out.append(compressor.process(piece) + compressor.flush())
        out.append(compressor.finish())
        return out
    wbits = {"gzip": 31, "deflate": 15}[encoding]
    zc = zlib.compressobj(wbits=wbits)
    for piece in pieces:
        out.append(zc.compress(piece) + zc.flush(zlib.Z_SYNC_FLUSH))
    out.append(zc.flush())
    return out
