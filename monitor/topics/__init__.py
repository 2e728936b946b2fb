"""Topic matching: a Lucene-style query language over German and English text analysis.

matcher = compile_topics(config.topics, config.aliases)   # raises TopicError
matcher.match(text, title=..., language=...)               # -> list[TopicMatch]
matcher.explain(text)                                      # -> {topic id: why / why not}
cap_text(text)              # -> (the part matched: MAX_MATCH_CHARS at most, whether it was cut)
"""

from monitor.topics.analysis import Analysis, Token, analyse
from monitor.topics.errors import TopicError
from monitor.topics.matcher import MAX_MATCH_CHARS, Matcher, cap_text, compile_topics

__all__ = [
    "MAX_MATCH_CHARS",
    "Analysis",
    "Matcher",
    "Token",
    "TopicError",
    "analyse",
    "cap_text",
    "compile_topics",
]
