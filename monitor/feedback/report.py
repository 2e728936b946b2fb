"""`monitor feedback`: per topic, the marks and mutes in force and the passages marked "not
relevant", for maintainers improving the topic definitions (nothing here changes config.toml)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from monitor.feedback.records import Feedback

CSV_COLUMNS = (
    "topic",
    "kind",
    "source",
    "item_id",
    "title",
    "text",
    "link",
    "who",
    "created_at",
)


def _one_line(text: str | None, limit: int) -> str:
    flat = " ".join((text or "").split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def as_text(rows: Sequence[Feedback], topics: Sequence[str]) -> str:
    """Counts per topic (every configured topic, and any other that has feedback), then each
    marked passage and muted source under it."""
    known = list(topics) + sorted({r.topic for r in rows} - set(topics))
    out: list[str] = []
    for topic in known:
        mine = [r for r in rows if r.topic == topic]
        marks = [r for r in mine if r.kind == "not_relevant"]
        mutes = [r for r in mine if r.kind == "mute"]
        gone = "" if topic in topics else " (no longer in the config)"
        out.append(f"{topic}{gone}: {len(marks)} not relevant, {len(mutes)} muted sources")
        for r in marks:
            title = _one_line(r.title, 100)
            out.append(f"  not relevant: {r.source_key}: {title} | {_one_line(r.text, 200)}")
        for r in mutes:
            out.append(f"  muted: {r.source_key} (by {r.who}, {r.created_at:%Y-%m-%d})")
    return "\n".join(out) + "\n"


def as_csv(rows: Sequence[Feedback]) -> str:
    """One row per mark or mute in force."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for r in rows:
        writer.writerow(
            [
                r.topic,
                r.kind,
                r.source_key,
                r.item_id if r.item_id is not None else "",
                r.title or "",
                r.text or "",
                r.link or "",
                r.who,
                r.created_at.isoformat(),
            ]
        )
    return buffer.getvalue()
