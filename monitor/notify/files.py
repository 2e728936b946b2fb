"""File delivery: the digest as .txt, .html and .json under the state folder.

Each file is written to a temporary name, fsynced and renamed into place, so a reader never sees a
half-written digest; the name is fixed by the digest's date and id, so a retry overwrites the same
three files instead of adding new ones.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from monitor.atomicfile import fsync_dir, write_atomic
from monitor.models import Delivery, RenderedDigest

if TYPE_CHECKING:
    from monitor.channels.file import FileChannel

_SAFE_NAME = re.compile(r"[A-Za-z0-9_\-]{1,128}")
FILE_MODE = 0o644  # mkstemp makes 0600; digests are meant to be read by the analysts' tools


def _file_stem(digest_id: str) -> str:
    if _SAFE_NAME.fullmatch(digest_id):
        return digest_id
    # Keep the readable part, and a hash so two odd ids cannot end up with the same name.
    readable = re.sub(r"[^A-Za-z0-9_\-]", "_", digest_id)[:64]
    return f"{readable}-{hashlib.sha256(digest_id.encode()).hexdigest()[:12]}"


def _digest_day(rendered: RenderedDigest, zone: str) -> str:
    # The digest's own creation time, not today's: a retry after midnight must hit the same file.
    stamp = rendered.payload.get("timestamp") if isinstance(rendered.payload, dict) else None
    try:
        created = datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
    except ValueError:
        created = datetime.now(UTC)
    if created.tzinfo is None:
        created = created.replace(tzinfo=UTC)
    return created.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d")


def target_folder(channel: FileChannel, state_dir: Path) -> Path:
    """The channel's folder, resolved; ValueError if it would lie outside the state folder."""
    base = state_dir.resolve()
    folder = (base / channel.path).resolve()
    # resolve() follows symlinks too, so a link pointing out of the state folder is refused.
    if not folder.is_relative_to(base):
        raise ValueError(f"path {channel.path!r} leads outside the state folder {base}")
    return folder


def write_digest(
    channel: FileChannel,
    rendered: RenderedDigest,
    digest_id: str,
    state_dir: Path,
    *,
    channel_name: str = "file",
) -> Delivery:
    """Write <YYYY-MM-DD>_<id>.txt/.html/.json atomically; never raises."""
    try:
        folder = target_folder(channel, state_dir)
    except ValueError as exc:
        return Delivery(digest_id, channel_name, False, f"files: refused: {exc}")
    stem = f"{_digest_day(rendered, channel.timezone)}_{_file_stem(digest_id)}"
    contents = {
        ".txt": rendered.text.encode("utf-8"),
        ".html": rendered.html.encode("utf-8"),
        ".json": json.dumps(rendered.payload, ensure_ascii=False, indent=2).encode("utf-8") + b"\n",
    }
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for suffix, data in contents.items():
            write_atomic(folder / f"{stem}{suffix}", data)
        fsync_dir(folder)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        detail = f"files: cannot write in {folder}: {reason}"
        return Delivery(digest_id, channel_name, False, detail)
    return Delivery(
        digest_id, channel_name, True, f"files: wrote {folder / stem}.{{txt,html,json}}"
    )
