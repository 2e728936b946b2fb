"""Decode fetched bytes to text when the declared charsets may be wrong.

Servers often label a body with the wrong charset (a UTF-8 feed served as ``ISO-8859-1``, a
Latin-1 page served as ``utf-8``). A label is trusted only when the bytes agree with it; valid
UTF-8 containing non-ASCII bytes is strong evidence in its own right, because Latin-1 text is
almost never valid UTF-8.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# Labels browsers decode as windows-1252 (WHATWG Encoding Standard): it is a superset that also
# covers the curly quotes and dashes publishers paste into "Latin-1" documents.
_LATIN1_LABELS = frozenset(
    {"iso-8859-1", "iso8859-1", "latin-1", "latin1", "l1", "us-ascii", "ascii", "cp819",
     "iso-ir-100", "csisolatin1", "ibm819", "windows-1252", "cp1252", "x-cp1252"}
)  # fmt: skip
_XML_DECL = re.compile(rb"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._:\-]+)[\"']")
_META_CHARSET = re.compile(rb"<meta[^>]+?charset\s*=\s*[\"']?\s*([A-Za-z0-9._:\-]+)", re.IGNORECASE)


@dataclass(slots=True)
class Decoded:
    """Text plus the encoding used and any warning about contradicting labels."""

    text: str
    encoding: str
    warnings: list[str] = field(default_factory=list)


def media_type(content_type: str | None) -> str:
    """Lower-case media type of a Content-Type header, '' when absent."""
    if not content_type:
        return ""
    return content_type.split(";", 1)[0].strip().lower()


def charset_from_content_type(content_type: str | None) -> str | None:
    """The charset parameter of a Content-Type header, if any."""
    if not content_type:
        return None
    match = re.search(r";\s*charset\s*=\s*[\"']?([^\s;\"']+)", content_type, re.IGNORECASE)
    return match.group(1).strip().lower() if match else None


def xml_declared_encoding(body: bytes) -> str | None:
    """The encoding named in the XML declaration, if any."""
    match = _XML_DECL.match(_strip_bom(body)[:512])
    return match.group(1).decode("ascii").lower() if match else None


def html_meta_charset(body: bytes) -> str | None:
    """The charset named by a <meta> tag near the start of an HTML document, if any."""
    match = _META_CHARSET.search(body[:8192])
    return match.group(1).decode("ascii").lower() if match else None


def _strip_bom(body: bytes) -> bytes:
    for bom, _ in _BOMS:
        if body.startswith(bom):
            return body[len(bom) :]
    return body


def _lookup(label: str | None) -> str | None:
    if not label:
        return None
    label = label.strip().lower()
    if label in _LATIN1_LABELS:
        return "windows-1252"
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def _decode_single_byte(body: bytes, name: str) -> str:
    if name == "windows-1252":
        try:
            return body.decode("windows-1252")
        except UnicodeDecodeError:
            # Five byte values are unassigned in windows-1252; Latin-1 maps them to C1 controls.
            return body.decode("latin-1")
    return body.decode(name, "replace")


def _is_single_byte(name: str) -> bool:
    return name == "windows-1252" or name.startswith(("iso8859", "cp125", "mac-", "koi8"))


def decode(body: bytes, labels: list[tuple[str, str | None]]) -> Decoded:
    """Decode ``body`` trying the labels in order of preference.

    ``labels`` holds (where the label came from, label) pairs, e.g. ``[("XML declaration",
    "iso-8859-1"), ("HTTP header", "utf-8")]``. A byte-order mark always wins.
    """
    for bom, bom_name in _BOMS:
        if body.startswith(bom):
            return Decoded(body[len(bom) :].decode(bom_name, "replace"), bom_name)

    non_ascii = not body.isascii()  # one C scan; a generator over the bytes cost ms per page
    try:
        as_utf8: str | None = body.decode("utf-8")
    except UnicodeDecodeError:
        as_utf8 = None

    rejected: list[str] = []
    for origin, label in labels:
        if not label:
            continue
        name = _lookup(label)
        if name is None:
            rejected.append(f"unknown charset {label!r} in {origin}")
            continue
        if name == "utf-8":
            if as_utf8 is not None:
                return Decoded(as_utf8, "utf-8", _warn(rejected))
            rejected.append(f"{origin} says {label} but the body is not UTF-8")
            continue
        if _is_single_byte(name):
            if non_ascii and as_utf8 is not None:
                rejected.append(f"{origin} says {label} but the body is UTF-8")
                continue
            return Decoded(_decode_single_byte(body, name), name, _warn(rejected))
        try:
            return Decoded(body.decode(name), name, _warn(rejected))
        except (UnicodeDecodeError, LookupError):
            rejected.append(f"{origin} says {label} but the body does not decode with it")

    if as_utf8 is not None:
        return Decoded(as_utf8, "utf-8", _warn(rejected))
    guessed = _guess(body)
    if guessed is not None:
        return Decoded(guessed[0], guessed[1], _warn(rejected))
    return Decoded(_decode_single_byte(body, "windows-1252"), "windows-1252", _warn(rejected))


def _guess(body: bytes) -> tuple[str, str] | None:
    try:
        from charset_normalizer import from_bytes
    except ImportError:  # pragma: no cover - installed with trafilatura
        return None
    best = from_bytes(body[:200_000]).best()
    if best is None or not best.encoding:
        return None
    name = _lookup(best.encoding) or best.encoding
    if name in {"utf-8", "ascii"}:
        return None
    try:
        return body.decode(name), name
    except (UnicodeDecodeError, LookupError):
        return None


def _warn(rejected: list[str]) -> list[str]:
    return [f"charset: {r}" for r in rejected]


# Signatures of common binary formats (first bytes; WebP and ISO media need a second look).
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "PNG image"),
    (b"GIF87a", "GIF image"),
    (b"GIF89a", "GIF image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"PK\x03\x04", "ZIP archive"),
    (b"PK\x05\x06", "ZIP archive"),
    (b"%PDF-", "PDF document"),
    (b"\x1f\x8b", "gzip data"),
    (b"\xfd7zXZ\x00", "xz data"),
    (b"7z\xbc\xaf\x27\x1c", "7-Zip archive"),
    (b"\x28\xb5\x2f\xfd", "zstd data"),
    (b"Rar!\x1a\x07", "RAR archive"),
    (b"\x7fELF", "executable"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "Office document"),
    (b"OggS\x00", "Ogg media"),
    (b"wOFF", "web font"),
    (b"wOF2", "web font"),
)
_SNIFF_BYTES = 8192
# Control bytes other than tab, line feed, form feed and carriage return. Text has next to none
# (a stray NUL in a broken feed); arbitrary binary data has about one in ten.
_CONTROL = bytes(b for b in range(32) if b not in (9, 10, 12, 13))
_CONTROL_SHARE = 0.05


def binary_kind(body: bytes, labels: Sequence[str | None] = ()) -> str | None:
    """What binary format `body` is ("PNG image", "binary data"), or None when it may be text.

    For bodies labelled as text or markup: an image or archive behind a `text/html` label
    would otherwise become one paragraph of mojibake. `labels` are the charsets the response
    declares; UTF-16 and UTF-32 text is full of control bytes and is not judged by them.
    """
    head = body[:_SNIFF_BYTES]
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WebP image"
    if head[4:8] == b"ftyp":
        return "MP4 media"
    if not head or any(head.startswith(bom) for bom, _ in _BOMS):
        return None
    if any((_lookup(label) or "").startswith(("utf-16", "utf-32")) for label in labels):
        return None
    controls = len(head) - len(head.translate(None, _CONTROL))
    if controls <= max(len(head) * _CONTROL_SHARE, 2):
        return None
    # UTF-16 or UTF-32 without a byte-order mark or label: the high bytes of text in one script
    # (and 0 for its spaces and digits) fill every other, or every fourth, position. Arbitrary
    # binary data has no lane made of two byte values.
    for step in (2, 4):
        narrow = [_narrow(head[offset::step]) for offset in range(step)]
        if any(narrow) and not all(narrow):
            return None
    return "binary data"


def _narrow(lane: bytes) -> bool:
    """Nine in ten of these bytes are one of two values."""
    top = sorted((lane.count(b) for b in set(lane)), reverse=True)[:2]
    return len(lane) >= 8 and sum(top) >= 0.9 * len(lane)


def binary_message(
    body: bytes, url: str, content_type: str | None, labels: Sequence[str | None] = ()
) -> str | None:
    """One line for a source whose text-labelled body is binary, else None."""
    kind = binary_kind(body, labels)
    if kind is None:
        return None
    what = "binary data" if kind == "binary data" else f"binary data ({kind})"
    label = media_type(content_type)
    return f"{url}: served {what} as {label}" if label else f"{url}: served {what}"
