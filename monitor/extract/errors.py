"""The one error type of the extract package."""

from __future__ import annotations


class ExtractError(ValueError):
    """The body cannot be turned into a Document; the message is one plain line for a person."""
