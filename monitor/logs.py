"""Logging: JSON lines when not on a terminal (for Docker), readable text when on one."""

from __future__ import annotations

import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

from pythonjsonlogger import json as jsonlogger

_CONTROL = re.compile(r"[\x00-\x1f\x7f\s]+")


def one_line(text: object, limit: int = 200) -> str:
    """Text for an error message: one line, control characters removed, at most `limit` chars.

    Error texts often carry what a remote server sent; they are shown to people and written to
    logs, so they are kept to printable text of bounded length.
    """
    flat = _CONTROL.sub(" ", str(text)).strip()
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


class JsonFormatter(jsonlogger.JsonFormatter):
    """One JSON object per record: ts (UTC, ms), level, logger, msg, then whatever the call
    passed with `extra=` (python-json-logger collects those, and serialises odd values)."""

    def __init__(self) -> None:
        super().__init__(
            "{message}",
            style="{",
            rename_fields={"message": "msg", "exc_info": "exc"},
            json_default=str,
            json_ensure_ascii=False,
        )

    def add_fields(
        self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]
    ) -> None:
        log_data["ts"] = datetime.fromtimestamp(record.created, UTC).isoformat(
            timespec="milliseconds"
        )
        log_data["level"] = record.levelname.lower()
        log_data["logger"] = record.name
        super().add_fields(log_data, record, message_dict)


def setup_logging(level: str = "INFO", json_logs: bool | None = None) -> None:
    if json_logs is None:
        json_logs = not sys.stderr.isatty()
    handler = logging.StreamHandler(sys.stderr)
    if json_logs:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Libraries' request-level chatter would drown the one line per cycle that matters.
    for noisy in ("httpx", "httpcore", "apscheduler", "trafilatura", "charset_normalizer"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
