"""Topic matching: a Lucene-style query language over German and English text analysis.

matcher = compile_topics(config.topics, config.aliases)   # raises TopicError
matcher.match(text, title=..., language=...)               # -> list[TopicMatch]
matcher.explain(text)                                      # -> {topic id: why / why not}
"""

from monitor.topics.analysis import Analysis, Token, analyse
from monitor.topics.errors import TopicError
from monitor.topics.matcher import Matcher, compile_topics

__all__ = ["Analysis", "Matcher", "Token", "TopicError", "analyse", "compile_topics"]
