"""PDF bytes or files -> repaired plain text (pypdf, then de-hyphenation) and link targets."""

from __future__ import annotations

import io
import logging
from pathlib import Path
from typing import Any

from monitor.extract.errors import ExtractError
from monitor.extract.text import dehyphenate

MAX_PDF_PAGES = 500

# pypdf logs every recoverable oddity of real-world PDFs as a warning; they are not actionable.
logging.getLogger("pypdf").setLevel(logging.ERROR)


def _reader(source: bytes | Path) -> Any:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    stream = io.BytesIO(source) if isinstance(source, bytes) else Path(source)
    try:
        reader = PdfReader(stream)
        if reader.is_encrypted:
            # Many PDFs are "encrypted" with an empty user password just to set permissions.
            reader.decrypt("")
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise ExtractError(f"not a readable PDF: {_line(exc)}") from exc
    return reader


def _line(exc: BaseException) -> str:
    text = str(exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)[:200]


def _raw_pages(source: bytes | Path, max_pages: int) -> list[str]:
    from pypdf.errors import PdfReadError

    reader = _reader(source)
    pages: list[str] = []
    try:
        for number, page in enumerate(reader.pages):
            if number >= max_pages:
                break
            pages.append(page.extract_text() or "")
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise ExtractError(f"not a readable PDF: {_line(exc)}") from exc
    return pages


def pdf_text(source: bytes | Path, max_pages: int = MAX_PDF_PAGES) -> str:
    """Text of a PDF with line-end hyphenation and hard wraps repaired."""
    return dehyphenate("\n\n".join(_raw_pages(source, max_pages)))


def pdf_page_texts(source: bytes | Path, max_pages: int = MAX_PDF_PAGES) -> list[str]:
    """Repaired text of each page (for locating link annotations)."""
    return [dehyphenate(page) for page in _raw_pages(source, max_pages)]


def _rect(value: Any) -> tuple[float, float, float, float] | None:
    try:
        x0, y0, x1, y1 = (float(v) for v in value)
    except (TypeError, ValueError):
        return None
    return min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)


def _text_in_rects(page: Any, rects: list[tuple[float, float, float, float]]) -> list[str]:
    """Text drawn inside each rectangle: the anchor text of a link annotation."""
    found: list[list[str]] = [[] for _ in rects]

    def visit(text: str, cm: Any, tm: Any, _font: Any, size: Any) -> None:
        if not text.strip():
            return
        x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
        y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
        try:
            scale = abs(float(tm[0]) * float(cm[0])) or 1.0
            # pypdf reports a run of text by its origin only; estimate its width from an
            # average glyph width of half the font size.
            width = len(text.strip()) * float(size or 10) * 0.5 * scale
        except (TypeError, ValueError):
            width = 0.0
        for i, (x0, y0, x1, y1) in enumerate(rects):
            # The text origin sits on the baseline, slightly below the annotation's box.
            if x <= x1 + 2 and x + width >= x0 - 2 and y0 - 4 <= y <= y1 + 2:
                found[i].append(text)

    page.extract_text(visitor_text=visit)
    return [" ".join("".join(parts).split()) for parts in found]


def pdf_link_targets(
    source: bytes | Path, max_pages: int = MAX_PDF_PAGES
) -> list[tuple[int, str, str]]:
    """(page index, URI, anchor text) of every URI link annotation, in page order."""
    from pypdf.errors import PdfReadError

    reader = _reader(source)
    links: list[tuple[int, str, str]] = []
    try:
        for number, page in enumerate(reader.pages):
            if number >= max_pages:
                break
            page_links: list[tuple[str, tuple[float, float, float, float]]] = []
            annots = page.get("/Annots")
            for annot in (annots.get_object() if annots is not None else None) or []:
                obj = annot.get_object()
                action = obj.get("/A")
                action = action.get_object() if action is not None else None
                uri = action.get("/URI") if action is not None else None
                if isinstance(uri, bytes):
                    uri = uri.decode("latin-1")
                rect = _rect(obj.get("/Rect"))
                if isinstance(uri, str) and uri.strip() and rect:
                    page_links.append((str(uri).strip(), rect))
            if not page_links:
                continue
            anchors = _text_in_rects(page, [rect for _, rect in page_links])
            for (uri, _), anchor in zip(page_links, anchors, strict=True):
                links.append((number, uri, anchor))
    except (PdfReadError, ValueError, KeyError, TypeError, OSError, AttributeError):
        return links
    return links
