"""The one error the topic compiler raises."""

from __future__ import annotations


class TopicError(ValueError):
    """A topic query that cannot be compiled.

    `detail` is one line a maintainer can act on, such as
    "position 17: expected a term, a "phrase" or '(' after 'AND'".
    `position` is the character offset in the topic's query, or None when the problem is not at a
    place in the query (an alias entry, a missing term).
    """

    def __init__(self, topic: str, detail: str, position: int | None = None):
        self.topic = topic
        self.position = position
        self.detail = detail
        super().__init__(f"topic {topic}: {detail}")

    def __reduce__(self) -> tuple[type[TopicError], tuple[str, str, int | None]]:
        # ValueError pickles only `args`; workers must be able to send this back intact.
        return (TopicError, (self.topic, self.detail, self.position))
