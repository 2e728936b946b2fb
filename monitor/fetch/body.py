"""Reading a response body with a hard cap on its *decoded* size.

httpx's own decoders inflate each network chunk completely, so one 64 KiB chunk of a gzip bomb can
become tens of megabytes before anyone counts. Here the raw bytes are inflated with zlib's
`max_length`, so no more than the remaining allowance is ever produced.
"""

from __future__ import annotations

import zlib

# Raw bytes may exceed the decoded cap a little (compression headers, incompressible data); past
# this slack a body that decodes to nothing (e.g. garbage after the gzip end) is stopped too.
_RAW_SLACK = 64 * 1024


class BodyTooLarge(Exception):
    """The body grew past the cap."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(f"response larger than {limit} bytes")


class BadEncoding(Exception):
    """The Content-Encoding is not one we asked for, or the compressed data is broken."""


class TruncatedBody(BadEncoding):
    """The compressed stream stopped before its end (a gzip trailer, a final deflate block)."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        super().__init__(f"truncated {mode} body")


def _mode(content_encoding: str | None) -> str | None:
    codings = [
        c.strip().lower()
        for c in (content_encoding or "").split(",")
        if c.strip() and c.strip().lower() != "identity"
    ]
    if not codings:
        return None
    if len(codings) > 1:
        raise BadEncoding(f"more than one Content-Encoding ({', '.join(codings)})")
    coding = codings[0]
    if coding in ("gzip", "x-gzip"):
        return "gzip"
    if coding == "deflate":
        return "deflate"
    raise BadEncoding(f"unsupported Content-Encoding {coding!r} (we accept gzip and deflate)")


class BoundedBody:
    """Collects a body chunk by chunk, inflating gzip/deflate; stops at `limit` decoded bytes."""

    def __init__(self, content_encoding: str | None, limit: int) -> None:
        self._mode = _mode(content_encoding)
        self._limit = limit
        self._out = bytearray()
        self._raw = 0
        self._pending = b""  # first bytes of a deflate body, until we know which flavour it is
        self._inflater: zlib._Decompress | None = None
        self._done = False  # the compressed stream has ended; later bytes are ignored
        if self._mode == "gzip":
            self._inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)

    def feed(self, chunk: bytes) -> None:
        """Add raw bytes from the wire; BodyTooLarge or BadEncoding when they must stop."""
        self._raw += len(chunk)
        if self._raw > self._limit + _RAW_SLACK:
            raise BodyTooLarge(self._limit)
        if self._mode is None:
            self._append(chunk)
            return
        if self._inflater is None:
            # "deflate" is meant to be zlib-wrapped, but some servers send raw deflate; the
            # first two bytes tell them apart.
            self._pending += chunk
            if len(self._pending) < 2:
                return
            chunk, self._pending = self._pending, b""
            head = (chunk[0] << 8) | chunk[1]
            zlib_wrapped = chunk[0] & 0x0F == 8 and head % 31 == 0
            self._inflater = zlib.decompressobj(zlib.MAX_WBITS if zlib_wrapped else -zlib.MAX_WBITS)
        self._inflate(chunk)

    def _inflate(self, data: bytes) -> None:
        assert self._inflater is not None
        while data and not self._done:
            try:
                out = self._inflater.decompress(data, self._limit - len(self._out) + 1)
            except zlib.error as exc:
                raise BadEncoding(f"could not decode the {self._mode} body: {exc}") from None
            self._append(out)
            if self._inflater.eof:
                rest = self._inflater.unused_data
                if self._mode == "gzip" and rest.startswith(b"\x1f\x8b"):
                    # A gzip file may hold several members one after the other.
                    self._inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
                    data = rest
                    continue
                self._done = True
                return
            tail = self._inflater.unconsumed_tail
            if not out and tail == data:
                return  # no progress possible without more input
            data = tail

    def _append(self, data: bytes) -> None:
        self._out += data
        if len(self._out) > self._limit:
            raise BodyTooLarge(self._limit)

    def finish(self) -> bytes:
        """The decoded body, once the last chunk has been fed."""
        if self._mode == "deflate" and self._inflater is None and self._pending:
            raise BadEncoding("could not decode the deflate body: it is too short")
        if self._inflater is not None and not self._done and self._raw:
            # zlib sets `eof` only once the stream's end (and, for gzip, the CRC and length in
            # the trailer) has been read: without it the body was cut off in transit, and what
            # came through is not the document, however plausible it looks.
            raise TruncatedBody(self._mode or "compressed")
        return bytes(self._out)
