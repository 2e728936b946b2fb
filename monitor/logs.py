"""Logging: JSON lines when not on a terminal (for Docker), readable text when on one."""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime

_CONTROL = re.compile(r"[\x00-\x1f\x7f\s]+")


def one_line(text: object, limit: int = 200) -> str:
    """Text for an error message: one line, control characters removed, at most `limit` chars.

    Error texts often carry what a remote server sent; they are shown to people and written to
    logs, so they are kept to printable text of bounded length.
    """
    flat = _CONTROL.sub(" ", str(text)).strip()
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


# Attributes every LogRecord has; anything else was passed with `extra=` and belongs in the JSON.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        out.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)


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
