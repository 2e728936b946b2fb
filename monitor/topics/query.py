"""Topic queries: Lucene-style text (parsed by luqum) → a tree of `nodes`.

The syntax is luqum's Lucene grammar plus three things of our own:

- `a NEAR/n b` (and `NEAR` = `NEAR/10`): both sides within n words. luqum reads `NEAR/5` as a
  plain word, so before parsing we wrap each NEAR with its two operands into a group of its own
  (`_near_5:(a b)`); NEAR therefore binds tighter than AND and OR, as in the news databases.
- `@name`: an alias list from the config.
- fields: `title:`, `body:`, `lang:de|en`, `art:4` / `art:4.2` / `art:*` (treaty articles).

Syntax errors name the position and what was expected; the expected tokens are read from the
parser's state at the error (through monitor/adapters/luqum_ply.py, like all of luqum's and
PLY's internals).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field

from luqum import tree
from luqum.exceptions import IllegalCharacterError, ParseError

from monitor.adapters.luqum_ply import (
    LexToken,
    expected_tokens,
    make_token,
    new_lexer,
    parse_text,
    parse_tokens,
)
from monitor.topics.analysis import (
    JOINED,
    NUMBER,
    WORD,
    Unit,
    fold_forms,
    normalise_number,
    query_word_keys,
    tokenize,
)
from monitor.topics.errors import TopicError
from monitor.topics.nodes import (
    BODY,
    TITLE,
    Alias,
    And,
    Lang,
    Leaf,
    Near,
    Node,
    Not,
    Or,
    Phrase,
    Variants,
)
from monitor.topics.nodes import Zone as ZoneNode

DEFAULT_NEAR = 10
_NEAR = re.compile(r"NEAR(?:/(\d+))?")
_LOWER_NEAR = re.compile(r"(?i)near/\d+")
_NEAR_FIELD = re.compile(r"_near_(\d+)")
_ALIAS = re.compile(r"@([a-z][a-z0-9_]*)")
_PLAIN_ENTRY = re.compile(r"[^\"()\[\]{}:^~+]+")
_OPERATOR_WORDS = re.compile(r"(?:^|\s)(?:AND|OR|NOT|NEAR(?:/\d+)?)(?:\s|$)|(?:^|\s)-")
_ARTICLE_VALUE = re.compile(r"(\d{1,3})(?:\.(\d{1,3}))?|\*")
_FIELDS = "title, body, lang, art"
_MIN_PREFIX = 2

# PLY parsers are not re-entrant; one parse at a time is plenty at config-load time.
_PARSE_LOCK = threading.Lock()

_TOKEN_NAMES = {
    "TERM": "a term",
    "PHRASE": 'a "phrase"',
    "LPAREN": "'('",
    "RPAREN": "')'",
}


@dataclass
class Features:
    """The feature ids a compiled query refers to, shared by all topics of one matcher."""

    keys: dict[str, int] = field(default_factory=dict)  # folded word or lemma → id
    parts: dict[str, int] = field(default_factory=dict)  # German compound part → id
    wildcards: dict[str, int] = field(default_factory=dict)  # folded pattern with * and ? → id
    articles: dict[str, int] = field(default_factory=dict)  # "4", "4.2", "*" → id
    names: list[str] = field(default_factory=list)  # id → readable name, for messages

    def _id(self, table: dict[str, int], key: str, name: str) -> int:
        fid = table.get(key)
        if fid is None:
            fid = table[key] = len(self.names)
            self.names.append(name)
        return fid

    def key(self, key: str) -> int:
        return self._id(self.keys, key, key)

    def part(self, key: str) -> int:
        return self._id(self.parts, key, f"…{key}…")

    def wildcard(self, pattern: str) -> int:
        return self._id(self.wildcards, pattern, pattern)

    def article(self, value: str) -> int:
        return self._id(self.articles, value, f"art:{value}")


@dataclass
class _Token:
    type: str
    text: str
    start: int
    end: int


def _lex(query: str) -> list[_Token]:
    lx = new_lexer()
    lx.input(query)
    out: list[_Token] = []
    while True:
        tok = lx.token()
        if tok is None:
            return out
        out.append(_Token(tok.type, query[tok.lexpos : lx.lexpos], tok.lexpos, lx.lexpos))


def _describe_token(tokens: list[_Token], index: int) -> str:
    """How to name the token at `index` in "after ..." (a field keeps its name: 'title:')."""
    tok = tokens[index]
    if tok.type == "COLUMN" and index > 0 and tokens[index - 1].type == "TERM":
        return f"'{tokens[index - 1].text}:'"
    return f"'{tok.text}'"


def _unclosed_paren(tokens: list[_Token]) -> int | None:
    open_at: list[int] = []
    for tok in tokens:
        if tok.type == "LPAREN":
            open_at.append(tok.start)
        elif tok.type == "RPAREN" and open_at:
            open_at.pop()
    return open_at[-1] if open_at else None


def _syntax_detail(query: str, exc: ParseError) -> tuple[int, str]:
    """(position, one-line detail) for a luqum syntax error."""
    message = str(exc)
    if isinstance(exc, IllegalCharacterError):
        m = re.search(r"'(.*)' at position (\d+)", message)
        pos = int(m.group(2)) if m else 0
        return pos, f"position {pos}: unexpected character {query[pos : pos + 1]!r}"
    tokens = _lex(query)
    m = re.search(r"at position (\d+)", message)
    pos = int(m.group(1)) if m else len(query)
    expected = expected_tokens()
    before = [i for i, t in enumerate(tokens) if t.end <= pos]
    after = f" after {_describe_token(tokens, before[-1])}" if before else " at the start"
    found_index = next((i for i, t in enumerate(tokens) if t.start == pos), None)
    found = tokens[found_index] if found_index is not None else None
    if found is None:
        opened = _unclosed_paren(tokens)
        if opened is not None and "RPAREN" in expected:
            return pos, f"position {pos}: expected ')' to close the '(' at position {opened}"
    elif found.type == "RPAREN" and "RPAREN" not in expected:
        return pos, f"position {pos}: unexpected ')'{after}: there is no '(' to close"
    names = [name for key, name in _TOKEN_NAMES.items() if key in expected and key != "RPAREN"]
    if not names:
        names = ["a term"]
    wanted = ", ".join(names[:-1]) + f" or {names[-1]}" if len(names) > 1 else names[0]
    tail = f", found '{found.text}'" if found is not None else ""
    return pos, f"position {pos}: expected {wanted}{after}{tail}"


def _matching_paren(types: list[str], k: int, step: int) -> int | None:
    """Index of the parenthesis matching the one at `k`, scanning forwards (step +1, from an
    LPAREN) or backwards (step -1, from an RPAREN); None if it is never closed."""
    opening, closing = ("LPAREN", "RPAREN") if step > 0 else ("RPAREN", "LPAREN")
    depth = 0
    end = len(types) if step > 0 else -1
    for m in range(k, end, step):
        depth += {opening: 1, closing: -1}.get(types[m], 0)
        if depth == 0:
            return m
    return None


def _operand_start(types: list[str], k: int) -> int | None:
    """Index of the first token of the operand that ends at token `k`, or None."""
    if k >= 0 and types[k] == "BOOST":
        k -= 1
    if k >= 0 and types[k] == "APPROX":
        k -= 1
    if k < 0:
        return None
    if types[k] == "RPAREN":
        m = _matching_paren(types, k, -1)
        if m is None:
            return None
        k = m
    elif types[k] not in ("TERM", "PHRASE"):
        return None
    if k >= 2 and types[k - 1] == "COLUMN" and types[k - 2] == "TERM":
        k -= 2
    return k


def _operand_end(types: list[str], k: int) -> int | None:
    """Index of the last token of the operand that starts at token `k`, or None."""
    n = len(types)
    if k + 1 < n and types[k] == "TERM" and types[k + 1] == "COLUMN":
        k += 2
    if k >= n:
        return None
    if types[k] == "LPAREN":
        m = _matching_paren(types, k, +1)
        if m is None:
            return None
        k = m
    elif types[k] not in ("TERM", "PHRASE"):
        return None
    if k + 1 < n and types[k + 1] == "APPROX":
        k += 1
    if k + 1 < n and types[k + 1] == "BOOST":
        k += 1
    return k


def _inject_near(query: str) -> list[LexToken] | None:
    """The token stream with every `L NEAR/n R` turned into `_near_n:(L R)`; None if no NEAR.

    Raises ValueError(position, detail) when a NEAR lacks an operand.
    """
    lx = new_lexer()
    lx.input(query)
    toks: list[LexToken] = []
    while (tok := lx.token()) is not None:
        toks.append(tok)

    def is_near(t: LexToken) -> bool:
        return t.type == "TERM" and _NEAR.fullmatch(str(t.value.value)) is not None

    if not any(is_near(t) for t in toks):
        return None
    i = 0
    while i < len(toks):
        tok = toks[i]
        if not is_near(tok):
            i += 1
            continue
        word = str(tok.value.value)
        types = [t.type for t in toks]
        start = _operand_start(types, i - 1)
        if start is None:
            raise _NearError(tok.lexpos, f"expected a term, a \"phrase\" or '(' before '{word}'")
        # Two NEARs in a row have no operand between them.
        nxt_is_near = i + 1 < len(toks) and is_near(toks[i + 1])
        end = None if nxt_is_near else _operand_end(types, i + 1)
        if end is None:
            after = tok.lexpos + len(word)
            raise _NearError(after, f"expected a term, a \"phrase\" or '(' after '{word}'")
        m = _NEAR.fullmatch(word)
        distance = int(m.group(1)) if m and m.group(1) else DEFAULT_NEAR
        pos = toks[start].lexpos
        group = [
            make_token("TERM", f"_near_{distance}", pos),
            make_token("COLUMN", ":", pos),
            make_token("LPAREN", "(", pos),
            *toks[start:i],
            *toks[i + 1 : end + 1],
            make_token("RPAREN", ")", tok.lexpos),
        ]
        toks[start : end + 1] = group
        # Go on inside the group: the right operand may hold a NEAR of its own.
        i = start + 3
    return toks


class _NearError(Exception):
    def __init__(self, position: int, detail: str):
        super().__init__(detail)
        self.position = position
        self.detail = detail


def parse(query: str) -> tree.Item:
    """Parse a query with luqum; raise ValueError((position, detail)) on a syntax error."""
    with _PARSE_LOCK:
        try:
            parsed = parse_text(query)
        except ParseError as exc:
            raise QuerySyntaxError(*_syntax_detail(query, exc)) from None
        try:
            toks = _inject_near(query)
        except _NearError as exc:
            raise QuerySyntaxError(exc.position, f"position {exc.position}: {exc.detail}") from None
        if toks is None:
            return parsed
        try:
            return parse_tokens(toks)
        except ParseError as exc:  # only a bug in the NEAR rewriting gets here
            detail = f"position 0: cannot read the NEAR operators ({exc})"
            raise QuerySyntaxError(0, detail) from None


class QuerySyntaxError(Exception):
    def __init__(self, position: int, detail: str):
        super().__init__(detail)
        self.position = position
        self.detail = detail


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def _wildcard_regex(pattern: str) -> str:
    return "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)


class Compiler:
    """Compiles the queries of one config into nodes sharing one `Features` table."""

    def __init__(self, aliases: Mapping[str, list[str]]):
        self.aliases = dict(aliases)
        self.features = Features()
        self.leaves: list[Leaf] = []
        self._alias_nodes: dict[tuple[str, float], Node] = {}
        self._alias_stack: list[str] = []
        self._topic = ""

    # --- entry points -------------------------------------------------------------------------

    def compile_topic(self, topic: str, query: str) -> Node:
        self._topic = topic
        node = self._compile_text(query, where="")
        if not node.needs_term():
            raise TopicError(
                topic,
                "the query can hold without finding any term (only NOT or lang:); "
                "add a term that must occur",
                0,
            )
        return node

    def _compile_text(self, query: str, where: str, weight: float = 1.0) -> Node:
        if not query.strip():
            raise self._error(0, "the query is empty", where)
        try:
            parsed = parse(query)
        except QuerySyntaxError as exc:
            raise self._error(exc.position, exc.detail, where, prefixed=True) from None
        return self._node(parsed, where, weight)

    def _error(
        self, pos: int | None, detail: str, where: str, prefixed: bool = False
    ) -> TopicError:
        if not prefixed and pos is not None:
            detail = f"position {pos}: {detail}"
        if where:
            # The position is inside an alias entry, not the topic's query.
            return TopicError(self._topic, f"{where}: {detail}", None)
        return TopicError(self._topic, detail, pos)

    # --- luqum tree → nodes -------------------------------------------------------------------

    def _node(self, item: tree.Item, where: str, weight: float) -> Node:
        pos = item.pos or 0
        match item:
            case tree.Group() | tree.FieldGroup():
                return self._node(item.expr, where, weight)
            case tree.AndOperation() | tree.UnknownOperation():
                items = tuple(self._node(c, where, weight) for c in item.children)
                return And(items=items, pos=pos)
            case tree.OrOperation():
                items = tuple(self._node(c, where, weight) for c in item.children)
                return Or(items=items, pos=pos)
            case tree.Not() | tree.Prohibit():
                return Not(item=self._node(item.a, where, weight), pos=pos)
            case tree.Plus():
                return self._node(item.a, where, weight)
            case tree.Boost():
                try:
                    force = float(item.force) if item.force is not None else 1.0
                except ValueError:
                    raise self._error(pos, f"'^{item.force}' is not a number", where) from None
                return self._node(item.expr, where, weight * force)
            case tree.SearchField():
                return self._field(item, where, weight)
            case tree.Proximity():
                if item.degree is None:
                    raise self._error(pos, 'give the distance after ~, as in "a b"~10', where)
                return self._phrase(item.term, where, weight, slop=int(float(item.degree)))
            case tree.Phrase():
                return self._phrase(item, where, weight, slop=None)
            case tree.Fuzzy():
                raise self._error(
                    pos,
                    f"fuzzy matching ({item}) is not supported; use a prefix* or list the "
                    "spellings in an alias",
                    where,
                )
            case tree.Word():
                return self._word(item, where, weight)
            case tree.Range() | tree.From() | tree.To():
                raise self._error(pos, "ranges ([a TO b], <, >) are not supported", where)
            case tree.Regex():
                raise self._error(pos, "regular expressions are not supported; use * and ?", where)
        raise self._error(pos, f"unsupported syntax {item!s}", where)

    def _field(self, item: tree.SearchField, where: str, weight: float) -> Node:
        name, pos = item.name, item.pos or 0
        lowered = name.lower()
        if m := _NEAR_FIELD.fullmatch(name):
            inner = item.expr.expr if isinstance(item.expr, tree.FieldGroup) else item.expr
            left, right = inner.children
            near = Near(
                left=self._node(left, where, weight),
                right=self._node(right, where, weight),
                distance=int(m.group(1)),
                pos=left.pos or 0,
            )
            for side in (near.left, near.right):
                if not side.needs_term():
                    detail = "each side of NEAR needs a term that must occur"
                    raise self._error(side.pos, detail, where)
            return near
        if lowered in ("title", "body"):
            zone = TITLE if lowered == "title" else BODY
            return ZoneNode(zone=zone, item=self._node(item.expr, where, weight), pos=pos)
        if lowered in ("lang", "language"):
            value = str(item.expr).strip().lower()
            if value not in ("de", "en"):
                given = str(item.expr).strip()
                raise self._error(pos, f"lang: takes de or en, not {given!r}", where)
            return Lang(language=value, pos=pos)
        if lowered in ("art", "article", "artikel"):
            return self._articles(item.expr, where, weight)
        raise self._error(pos, f"unknown field '{name}:'; fields are {_FIELDS}", where)

    def _articles(self, item: tree.Item, where: str, weight: float) -> Node:
        """`art:4`, `art:4.2`, `art:*` and `art:(2 OR 4)`."""
        pos = item.pos or 0
        match item:
            case tree.Group() | tree.FieldGroup():
                return self._articles(item.expr, where, weight)
            case tree.OrOperation():
                items = tuple(self._articles(c, where, weight) for c in item.children)
                return Or(items=items, pos=pos)
            case tree.Word():
                value = item.value.replace(",", ".").replace("(", ".").rstrip(")")
                if not _ARTICLE_VALUE.fullmatch(value):
                    raise self._error(
                        pos,
                        f"art: takes an article number such as art:4, art:4.2 or art:*, "
                        f"not {item.value!r}",
                        where,
                    )
                if value != "*":
                    number, _, sub = value.partition(".")
                    value = number.lstrip("0") or "0"
                    value = f"{value}.{sub}" if sub else value
                return self._leaf(f"art:{value}", (self.features.article(value),), weight, pos)
        raise self._error(pos, "art: takes article numbers joined by OR, as in art:(4 OR 5)", where)

    def _leaf(self, label: str, fids: tuple[int, ...], weight: float, pos: int) -> Leaf:
        leaf = Leaf(label=label, fids=fids, id=len(self.leaves), weight=weight, pos=pos)
        self.leaves.append(leaf)
        return leaf

    def _word(self, item: tree.Word, where: str, weight: float) -> Node:
        raw, pos = item.value, item.pos or 0
        if raw.startswith("@"):
            return self._alias(raw, pos, where, weight)
        if raw in ("and", "or", "not"):
            raise self._error(
                pos,
                f"'{raw}' in lower case is searched as a word; write {raw.upper()} for the "
                f'operator or "{raw}" for the word',
                where,
            )
        if _LOWER_NEAR.fullmatch(raw) or _NEAR.fullmatch(raw):
            detail = f"write NEAR/n in capitals between two terms, not {raw!r}"
            raise self._error(pos, detail, where)
        text = _unescape(raw)
        if "*" in text or "?" in text:
            return self._wildcard(text, raw, where, weight, pos)
        units = [u for u in tokenize(text) if u[0] != JOINED]
        if not units:
            raise self._error(pos, f"{raw!r} has no letters or digits to search for", where)
        if len(units) == 1:
            return self._term(units[0], raw, weight, pos, parts=True)
        # "Nord-Korea": the joined word (Nordkorea) or the parts in a row (Nord Korea, Nord-Korea).
        phrase = self._phrase_of([self._keys_of(u) for u in units], raw, weight, pos, None)
        if "-" in text or "‐" in text:
            joined = "".join(u[1] for u in units)
            term = self._term((WORD, joined, 0, 0, 0, 0), raw, weight, pos, True)
            return Variants(items=(term, phrase), label=raw, pos=pos)
        return phrase

    def _keys_of(self, unit: Unit) -> tuple[int, ...]:
        if unit[0] == NUMBER or unit[1].isdigit():
            return tuple(self.features.key(k) for k in normalise_number(unit[1])[:1])
        return tuple(sorted(self.features.key(k) for k in query_word_keys(unit[1])))

    def _term(self, unit: Unit, label: str, weight: float, pos: int, parts: bool) -> Leaf:
        fids = list(self._keys_of(unit))
        if parts and unit[0] == WORD and not unit[1].isdigit():
            # Compound parts only for bare words: "Truppe" also finds Truppenentsendung.
            fids += [self.features.part(k) for k in query_word_keys(unit[1]) if len(k) >= 4]
        return self._leaf(label, tuple(fids), weight, pos)

    def _wildcard(self, text: str, raw: str, where: str, weight: float, pos: int) -> Leaf:
        head = re.split(r"[*?]", text, maxsplit=1)[0]
        if text.startswith(("*", "?")) and len(text.strip("*?")) < 3:
            raise self._error(pos, f"{raw!r} is too short to search for", where)
        if not text.startswith(("*", "?")) and len(head) < _MIN_PREFIX:
            raise self._error(
                pos, f"{raw!r}: write at least {_MIN_PREFIX} letters before the wildcard", where
            )
        pieces = re.split(r"([*?])", text)
        patterns: set[str] = set()
        for variant in range(2):
            out = []
            for piece in pieces:
                if piece in ("*", "?") or not piece:
                    out.append(piece)
                else:
                    forms = fold_forms(piece)
                    out.append(forms[min(variant, len(forms) - 1)])
            patterns.add("".join(out))
        fids = tuple(sorted(self.features.wildcard(p) for p in patterns))
        return self._leaf(raw, fids, weight, pos)

    def _phrase(self, item: tree.Phrase, where: str, weight: float, slop: int | None) -> Node:
        pos = item.pos or 0
        inner = _unescape(item.value[1:-1])
        parts: list[tuple[int, ...]] = []
        for chunk in inner.split():
            if "*" in chunk or "?" in chunk:
                parts.append(self._wildcard(chunk, chunk, where, 1.0, pos).fids)
                self.leaves.pop()  # the wildcard is part of the phrase, not a leaf of its own
                continue
            for unit in tokenize(chunk):
                if unit[0] != JOINED:
                    parts.append(self._keys_of(unit))
        if not parts:
            raise self._error(pos, f"{item.value} has no words to search for", where)
        label = item.value if slop is None else f"{item.value}~{slop}"
        return self._phrase_of(parts, label, weight, pos, slop)

    def _phrase_of(
        self, parts: list[tuple[int, ...]], label: str, weight: float, pos: int, slop: int | None
    ) -> Leaf:
        if len(parts) == 1:
            return self._leaf(label, parts[0], weight, pos)
        leaf = Phrase(
            label=label, parts=tuple(parts), slop=slop, id=len(self.leaves), weight=weight, pos=pos
        )
        self.leaves.append(leaf)
        return leaf

    # --- aliases ------------------------------------------------------------------------------

    def _alias(self, raw: str, pos: int, where: str, weight: float) -> Node:
        m = _ALIAS.fullmatch(raw)
        name = m.group(1) if m else raw[1:]
        if name not in self.aliases:
            known = ", ".join(f"@{a}" for a in sorted(self.aliases)) or "none"
            raise self._error(pos, f"unknown alias @{name}; defined aliases: {known}", where)
        if name in self._alias_stack:
            chain = " → ".join(f"@{a}" for a in [*self._alias_stack, name])
            raise self._error(pos, f"alias loop: {chain}", where)
        # One compiled alias per weight, shared by every topic that uses it.
        node = self._alias_nodes.get((name, weight))
        if node is None:
            self._alias_stack.append(name)
            try:
                node = self._compile_alias(name, pos, where, weight)
            finally:
                self._alias_stack.pop()
            self._alias_nodes[name, weight] = node
        return node

    def _compile_alias(self, name: str, pos: int, where: str, weight: float) -> Node:
        entries = self.aliases[name]
        if not entries:
            raise self._error(pos, f"alias @{name} has no entries", where)
        items: list[Node] = []
        for number, entry in enumerate(entries, 1):
            here = f"alias @{name}, entry {number} ({entry!r})"
            if where:
                here = f"{where}, {here}"
            items.append(self._alias_entry(entry, here, weight))
        return Alias(name=name, item=Or(items=tuple(items)), pos=pos)

    def _alias_entry(self, entry: str, where: str, weight: float) -> Node:
        """An entry is a word, a prefix*, several words read as a phrase, or a query fragment."""
        text = entry.strip()
        if not text:
            raise self._error(None, "the entry is empty", where)
        if _PLAIN_ENTRY.fullmatch(text) and not _OPERATOR_WORDS.search(text) and "@" not in text:
            words = text.split()
            if len(words) > 1:
                escaped = text.replace("\\", "\\\\")
                return self._compile_text(f'"{escaped}"', where, weight)
        return self._compile_text(text, where, weight)
