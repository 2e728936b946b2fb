"""Decode fetched bytes to text when the declared charsets may be wrong.

Servers often label a body with the wrong charset (a UTF-8 feed served as ``ISO-8859-1``, a
Latin-1 page served as ``utf-8``). A label is trusted only when the bytes agree with it; valid
UTF-8 containing non-ASCII bytes is strong evidence in its own right, because Latin-1 text is
almost never valid UTF-8.
"""

from __future__ import annotations

import codecs
import re
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
    for bom, name in _BOMS:
        if body.startswith(bom):
            return Decoded(body[len(bom) :].decode(name, "replace"), name)

    non_ascii = any(b > 0x7F for b in body)
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
