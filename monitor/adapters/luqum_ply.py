"""luqum's parser internals and PLY underneath it, used by the topic query parser
(monitor/topics/query.py).

luqum parses Lucene syntax with PLY but offers only `parser.parse(text)`. The query parser
needs more: its own token stream (to rewrite `a NEAR/n b` into a group before parsing, so it
builds PLY `LexToken`s and feeds them through PLY's `tokenfunc`), luqum's module-level lexer
(cloned per parse) and, after a syntax error, the token names the parser would have accepted
(read from PLY's state stack and action table left on the parser object). ply is imported
directly here, so it is declared in pyproject.toml beside luqum.

pyproject.toml bounds luqum to 1.0.x and ply to 3.11; tests/test_adapters.py fails when either
changes what this module relies on.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from luqum import tree
from luqum.head_tail import TokenValue
from luqum.parser import lexer as _lexer
from luqum.parser import parser as _parser
from ply.lex import LexToken

__all__ = ["LexToken", "expected_tokens", "make_token", "new_lexer", "parse_text", "parse_tokens"]


def new_lexer() -> Any:
    """A fresh copy of luqum's PLY lexer (call `.input(text)`, then `.token()` until None)."""
    return _lexer.clone()


def make_token(kind: str, value: object, pos: int) -> LexToken:
    """A token luqum's grammar accepts: a TERM becomes a `tree.Word`, others a `TokenValue`."""
    tok = LexToken()
    tok.type, tok.lineno, tok.lexpos = kind, 1, pos
    if isinstance(value, str):
        value = tree.Word(value) if kind == "TERM" else TokenValue(value)
    # Every luqum node and TokenValue has pos and size; `value` is typed object for the
    # callers, who pass a node or a string.
    value.pos, value.size = pos, 0  # type: ignore[attr-defined]
    tok.value = value
    return tok


def expected_tokens() -> set[str]:
    """Token names the parser would have accepted where the last parse failed (PLY keeps
    its state stack on the parser object; its action table maps state -> token -> action)."""
    stack = getattr(_parser, "statestack", None)
    actions = getattr(_parser, "action", {})
    return set(actions.get(stack[-1], {})) if stack else set()


def parse_text(query: str) -> tree.Item:
    """luqum's parse of `query` (raises luqum's ParseError). Not re-entrant: callers lock."""
    return _parser.parse(query, lexer=_lexer.clone())


def parse_tokens(tokens: Iterable[LexToken]) -> tree.Item:
    """luqum's parse of a token stream built with `new_lexer` and `make_token`."""
    stream = iter(tokens)
    return _parser.parse(lexer=_lexer.clone(), tokenfunc=lambda: next(stream, None))
