"""The matcher: every topic of the config against one paragraph at a time.

Per paragraph the work is:

1. tokenise title and body (`analysis.tokenize`, `find_articles`);
2. map each distinct word to the topic features it carries (folded spellings, lemmas, compound
   parts, prefixes) — computed once per distinct word and kept in a cache, so a word the matcher
   has seen before costs one dict lookup;
3. prefilter: a topic is evaluated only if one of its *trigger* features occurs (a set of
   features at least one of which every match needs), so topics whose terms are absent cost
   nothing;
4. evaluate the candidate topics' query trees, score them, and build the evidence.

In front of all that, the raw-text prefilter (`prefilter.py`) looks for each topic's anchors in
the folded paragraph with one Aho-Corasick pass: steps 1–4 run only when some topic survives, and
only the surviving topics are evaluated. Off-subject paragraphs, most of a news stream, cost that
one pass. For the prefilter to be sound, a word counts for a lemma only when it contains the
lemma's stem (Soldaten for Soldat, geliefert for liefern, Kämpfe for Kampf) or is a form
simplemma's dictionary lists for it (entsandt for entsenden, fought for fight); a lemma that
simplemma's rules make up for a word outside its dictionary and that shares no stem with the word
does not count.

German compound parts are found with an Aho-Corasick automaton over the topics' own words:
"truppenentsendung" contains "truppe" followed by the linking "n" and the word "entsendung".
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import ahocorasick
import re2

from monitor.models import Evidence, TopicMatch
from monitor.topics.analysis import (
    JOINED,
    LANGUAGES,
    NUMBER,
    WORD,
    Unit,
    detect_language,
    find_articles,
    fold_chars,
    fold_forms,
    normalise_number,
    prepare,
    surface_keys,
    word_keys,
)
from monitor.topics.analysis import tokenize as _tokenize
from monitor.topics.dictionaries import is_known
from monitor.topics.nodes import ANY, BODY, BODY_BASE, Doc, Found, Leaf, Node, Occurrence, Phrase
from monitor.topics.prefilter import Prefilter, feature_anchors, node_anchors

if TYPE_CHECKING:
    # Only named in signatures: the parser processes import this module and never need
    # the config models (pydantic builds them at import, ~0.3 s).
    from monitor.config import TopicConfig
    from monitor.topics.query import Compiler

# German inflection endings that may follow a compound's last part (Russlandsanktion-en).
_ENDINGS = frozenset({"", "e", "en", "n", "s", "es", "er", "ern", "ns", "nen", "in", "innen"})
# Linking elements between compound parts (Truppe-n-entsendung, Sanktion-s-regime).
_LINKS = ("ens", "es", "en", "er", "ns", "n", "s", "e", "")
_LONGEST_ENDING = max(map(len, _ENDINGS))
_MIN_PART = 4
_MIN_REST = 4
_MIN_LEFT = 3
# A word that follows a part with one of these is a derivation, not a compound (einheit-lich).
_DERIVATIONS = ("lich", "isch", "ig", "bar", "sam", "los", "haft", "heit", "keit", "ung")
# Folded umlauts put back, to look a compound's left side up in the dictionary (ruestungs).
_UMLAUTS_BACK = (("ae", "ä"), ("oe", "ö"), ("ue", "ü"))

_ARTICLE_HINT = re.compile(r"(?i)\b(?:arts?\b|artikel|article)")
_LOOSE_SPACE = re.compile(r"\s{2,}|[^\S ]")
_CACHE_LIMIT = 300_000
_SNIPPET = 260
_PROXIMITY_WINDOW = 10
_PROXIMITY_MAX = 2.0
# Distinct terms in one window at which the proximity part reaches its maximum (0.5 per term
# after the first).
_PROXIMITY_ENOUGH = int(_PROXIMITY_MAX / 0.5) + 1
_TERMS_SHOWN = 12

# Characters of an item's text (and of its title) that are matched; the rest is left out. A long
# read runs to some 60,000 characters and a page paragraph or a feed entry rarely past 100,000, so
# this holds any real article whole; what a broken or hostile feed sends beyond it (megabytes in
# one entry) would only cost time. Matching 200,000 topic-dense characters takes a fraction of a
# second (benchmarks/bench_match_dense.py).
MAX_MATCH_CHARS = 200_000
# How far back from the cap a cut looks for white space, so that no word is cut in two.
_CUT_LOOKBACK = 1_000


def cap_text(text: str, limit: int = MAX_MATCH_CHARS) -> tuple[str, bool]:
    """The part of `text` that is matched, and whether it was cut (to report it).

    At most `limit` characters, cut at white space within the last 1,000 of them (hard at the
    limit when there is none: a run of that length is no word).
    """
    if len(text) <= limit:
        return text, False
    for index in range(limit, max(0, limit - _CUT_LOOKBACK), -1):
        if text[index].isspace():
            return text[:index], True
    return text[:limit], True


@dataclass(frozen=True)
class _Topic:
    id: str
    node: Node
    threshold: float
    languages: tuple[str, ...]
    trigger: frozenset[int] | None
    leaves: dict[int, Leaf]
    # `context_requires` and `context_excludes` of the config: read on the paragraph's own text
    # when the page's headline is needed for the match (see `Matcher.match`).
    context_requires: Node | None = None
    context_excludes: Node | None = None


class Matcher:
    """Compiled topics; `match` and `explain` one paragraph at a time.

    Build it once (`compile_topics`); it is picklable (it pickles as its config and rebuilds).
    `prefilter=False` turns the raw-text prefilter off (same results, every paragraph analysed);
    `skipped` counts the paragraphs `match` answered without analysing them. Only the first
    `max_chars` characters of a text and of a title are matched (`cap_text`); `capped` counts
    the texts `match` cut.
    """

    def __init__(
        self,
        topics: Mapping[str, TopicConfig],
        aliases: Mapping[str, list[str]],
        prefilter: bool = True,
        max_chars: int = MAX_MATCH_CHARS,
    ):
        if max_chars < 1:
            raise ValueError(f"max_chars must be at least 1, not {max_chars}")
        self._config = (
            dict(topics),
            {k: list(v) for k, v in aliases.items()},
            prefilter,
            max_chars,
        )
        self.max_chars = max_chars
        # Here, not at the top: the query parser (luqum over PLY) is needed to compile topics,
        # not to match with topics thawed from the cache (`monitor match`, parser processes).
        from monitor.topics.query import Compiler

        compiler = Compiler(aliases)
        self._topics: list[_Topic] = []
        for topic_id, cfg in topics.items():
            node = compiler.compile_topic(topic_id, cfg.query)
            node.seal()
            leaves = {leaf.id: leaf for leaf in node.leaves()}
            requires, excludes = (
                self._compile_context(compiler, f"{topic_id}.{key}", query)
                for key, query in (
                    ("context_requires", cfg.context_requires),
                    ("context_excludes", cfg.context_excludes),
                )
            )
            self._topics.append(
                _Topic(
                    topic_id,
                    node,
                    cfg.threshold,
                    tuple(cfg.languages),
                    node.trigger(),
                    leaves,
                    requires,
                    excludes,
                )
            )
        self.topic_ids: list[str] = [t.id for t in self._topics]
        features = compiler.features
        self._feature_names = features.names
        self._keys = features.keys
        self._articles = features.articles
        self._automaton: Any = None
        if features.parts:
            automaton = ahocorasick.Automaton()
            for part, fid in features.parts.items():
                automaton.add_word(part, (part, fid))
            automaton.make_automaton()
            self._automaton = automaton
        # Pure prefixes (the usual wildcard) are looked up by length; others go through a regex.
        self._prefixes: dict[int, dict[str, int]] = {}
        self._patterns: list[tuple[Any, int]] = []
        for pattern, fid in features.wildcards.items():
            head = pattern[:-1]
            if pattern.endswith("*") and "*" not in head and "?" not in head:
                self._prefixes.setdefault(len(head), {})[head] = fid
            else:
                regex = "".join(
                    ".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern
                )
                # With one * a fullmatch backtracks at most the word's length, and re is the
                # quicker per call; with more (a*b*c) the time grows with a power of it: RE2.
                engine = re2.compile if pattern.count("*") > 1 else re.compile
                self._patterns.append((engine(regex), fid))
        self._prefix_lengths = sorted(self._prefixes)
        self._triggered: dict[int, list[int]] = {}
        self._always: list[int] = []
        for index, topic in enumerate(self._topics):
            if topic.trigger is None:
                self._always.append(index)
            else:
                for fid in topic.trigger:
                    self._triggered.setdefault(fid, []).append(index)
        # Per paragraph language: a word's lemmas depend on it (see `analysis.word_keys`).
        self._words: dict[str | None, dict[str, tuple[int, ...]]] = {}
        self._joined: dict[str, tuple[int, ...]] = {}
        anchors = feature_anchors(features)
        # A lemma counts for a word only when the word shows one of the key's anchors (its stem
        # or a dictionary form of it): what the prefilter looks for must be in the text.
        self._lemma_anchors = {key: tuple(anchors[fid] or ()) for key, fid in self._keys.items()}
        self._prefilter: Prefilter | None = None
        if prefilter:
            memo: dict[int, Any] = {}
            self._prefilter = Prefilter([node_anchors(t.node, anchors, memo) for t in self._topics])
        self.skipped = 0
        self.capped = 0

    @staticmethod
    def _compile_context(compiler: Compiler, where: str, query: str | None) -> Node | None:
        if query is None:
            return None
        node = compiler.compile_topic(where, query)
        node.seal()
        return node

    def __reduce__(self) -> tuple[type[Matcher], tuple[Any, Any, bool, int]]:
        config = getattr(self, "_config", None)
        if config is None:  # thawed in a parser process, without its config (`freeze_matcher`)
            raise TypeError("a matcher thawed without its topics' config cannot be pickled")
        return (Matcher, config)

    def _cap(self, text: str, title: str | None) -> tuple[str, str | None, bool]:
        """Text and title as matched: each cut to `max_chars` (see `cap_text`)."""
        text, cut = cap_text(text, self.max_chars)
        if title:
            # Title positions must stay below the body's, whatever the cap.
            title, title_cut = cap_text(title, min(self.max_chars, BODY_BASE - 1))
            cut = cut or title_cut
        return text, title, cut

    # --- per-word features ----------------------------------------------------------------------

    def _word_features(self, word: str, compound: bool, language: str | None) -> tuple[int, ...]:
        keys = self._keys
        own = surface_keys(word)
        fids = {keys[k] for k in own if k in keys}
        shown: str | None = None
        for key in word_keys(word, language) - own:
            fid = keys.get(key)
            if fid is None or fid in fids:
                continue
            # A lemma the word does not show would escape the prefilter.
            if shown is None:
                shown = fold_chars(word)
            if any(anchor in shown for anchor in self._lemma_anchors[key]):
                fids.add(fid)
        folds = fold_forms(word)
        for fold in folds:
            for length in self._prefix_lengths:
                if length > len(fold):
                    break
                fid = self._prefixes[length].get(fold[:length])
                if fid is not None:
                    fids.add(fid)
            for regex, fid in self._patterns:
                if regex.fullmatch(fold):
                    fids.add(fid)
            if compound and self._automaton is not None and len(fold) > _MIN_PART:
                for end, (part, fid) in self._automaton.iter(fold):
                    if fid not in fids and _is_part(fold, end + 1 - len(part), end + 1):
                        fids.add(fid)
        return tuple(sorted(fids))

    def _unit_features(self, unit: Unit, language: str | None) -> tuple[int, ...]:
        kind, surface = unit[0], unit[1]
        if kind == WORD:
            cache = self._words.get(language)
            if cache is None:
                cache = self._words[language] = {}
            compound = True
        elif kind == JOINED:
            cache = self._joined
            compound = False
        elif kind == NUMBER:
            keys = self._keys
            return tuple(keys[k] for k in normalise_number(surface) if k in keys)
        else:
            arts = self._articles
            found = [arts.get(surface), arts.get(surface.partition(".")[0]), arts.get("*")]
            return tuple(f for f in found if f is not None)
        fids = cache.get(surface)
        if fids is None:
            if len(cache) >= _CACHE_LIMIT:
                cache.clear()
            # Joined hyphen compounds keep both languages' lemmas (one cache for all paragraphs).
            lang = language if kind == WORD else None
            fids = cache[surface] = self._word_features(surface, compound, lang)
        return fids

    # --- one paragraph ----------------------------------------------------------------------

    def _doc(self, text: str, title: str | None, language: str | None) -> Doc:
        body = prepare(text)
        head = prepare(title) if title else ""
        units = _tokenize(head) if head else []
        body_units = _tokenize(body, BODY_BASE)
        lang: str | None
        if language in LANGUAGES:
            lang = language
        else:
            lang = detect_language([u[1] for u in (*units, *body_units) if u[0] == WORD])
        features: dict[int, list[Found]] = {}
        for source, part in ((head, units), (body, body_units)):
            if not part:
                continue
            # Most paragraphs cite no article; a substring test spares the scan.
            extra = (
                find_articles(source, part)
                if self._articles and _ARTICLE_HINT.search(source)
                else []
            )
            for unit in (*part, *extra):
                fids = self._unit_features(unit, lang)
                if fids:
                    found = (unit[4], unit[5], unit[2], unit[3])
                    for fid in fids:
                        hits = features.get(fid)
                        if hits is None:
                            features[fid] = [found]
                        else:
                            hits.append(found)
        return Doc(head, body, features, lang)

    def _candidates(self, doc: Doc) -> list[int]:
        triggered = self._triggered
        chosen = set(self._always)
        for fid in doc.features:
            hit = triggered.get(fid)
            if hit:
                chosen.update(hit)
        return sorted(chosen)

    @staticmethod
    def _applies(topic: _Topic, doc: Doc) -> bool:
        return not topic.languages or doc.language is None or doc.language in topic.languages

    def prefilter_topics(self, text: str, *, title: str | None = None) -> list[str]:
        """The topics the raw-text prefilter lets through for this paragraph (all when it is off).

        A topic left out cannot match; `match` does not analyse a paragraph none is let through.
        """
        if self._prefilter is None:
            return list(self.topic_ids)
        text, title, _ = self._cap(text, title)
        mask = self._prefilter.woken(text, title)
        return [tid for index, tid in enumerate(self.topic_ids) if mask >> index & 1]

    def match(
        self,
        text: str,
        *,
        title: str | None = None,
        language: str | None = None,
        context: bool = False,
    ) -> list[TopicMatch]:
        """The topics this paragraph matches with a score at or above their threshold.

        Only the first `max_chars` characters of text and title are matched (`cap_text`).
        `context`: the title is the headline (and section heading) of the page the paragraph
        stands on, shared with other paragraphs, not a title of its own. It completes a match
        only for a paragraph whose own text meets the topic's `context_requires` (its substance,
        not a place alone) and not its `context_excludes` (one about another country does not
        inherit the country the headline names).
        """
        text, title, cut = self._cap(text, title)
        if cut:
            self.capped += 1
        woken = -1  # every bit set: every topic may match
        if self._prefilter is not None:
            woken = self._prefilter.woken(text, title)
            if not woken:
                self.skipped += 1
                return []
        doc = self._doc(text, title, language)
        out: list[TopicMatch] = []
        for index in self._candidates(doc):
            if not woken >> index & 1:
                continue
            topic = self._topics[index]
            if not self._applies(topic, doc):
                continue
            occs = topic.node.eval(doc)
            if not occs:
                continue
            # A shared alias list may report the same hit for several clauses. (Dropped in
            # order, not through a set: runs of hits in text order keep the sorts below cheap.)
            occs = list(dict.fromkeys(occs))
            score = _score(occs, topic.leaves)
            if score < topic.threshold:
                continue
            if context and not self._own_or_inherited(topic, doc):
                continue
            out.append(TopicMatch(topic.id, score, _evidence(topic, doc, occs)))
        out.sort(key=lambda m: -m.score)
        return out

    @staticmethod
    def _own_or_inherited(topic: _Topic, doc: Doc) -> bool:
        """Whether a page paragraph keeps a match: its text matches alone, or it needs the
        page's headline and its own text says enough of the topic to inherit it."""
        requires, excludes = topic.context_requires, topic.context_excludes
        if (requires is None and excludes is None) or topic.node.eval(doc, BODY) is not None:
            return True
        if requires is not None and requires.eval(doc, BODY) is None:
            return False
        return excludes is None or excludes.eval(doc, BODY) is None

    def explain(
        self, text: str, *, title: str | None = None, language: str | None = None
    ) -> dict[str, str]:
        """Per topic, a few lines: why it matched (rule, terms, score) or why it did not.

        Every topic's query is evaluated on the analysed paragraph, whatever the prefilters
        would have skipped: they only leave out topics that cannot match, and the reason must be
        the query's own (a topic skipped because one required term is missing may well have
        others present), the same with the raw-text prefilter on or off. Like `match`, it looks
        at the first `max_chars` characters of text and title only.
        """
        text, title, _ = self._cap(text, title)
        doc = self._doc(text, title, language)
        return {topic.id: self._explain_one(topic, doc) for topic in self._topics}

    def _explain_one(self, topic: _Topic, doc: Doc) -> str:
        if not self._applies(topic, doc):
            wanted = ", ".join(topic.languages)
            return f"not matched: the topic is for {wanted}, the text is {doc.language}"
        if not any(_mentioned(leaf, doc) for leaf in topic.leaves.values()):
            names = sorted({leaf.label for leaf in topic.leaves.values()})
            shown = ", ".join(names[:12]) + (" …" if len(names) > 12 else "")
            return f"not matched: none of its terms occur ({shown})"
        occs = topic.node.eval(doc)
        if occs is None or not occs:
            reasons = topic.node.why_not(doc) or ["the query does not hold"]
            return "not matched: " + "\n  ".join(reasons)
        score = _score(occs, topic.leaves)
        evidence = _evidence(topic, doc, occs)
        terms = ", ".join(evidence.terms)
        if score < topic.threshold:
            return (
                f"not matched: score {score:g} is below the threshold {topic.threshold:g}\n"
                f"  rule: {evidence.rule}\n  terms: {terms}"
            )
        return (
            f"matched: score {score:g} (threshold {topic.threshold:g})\n"
            f"  rule: {evidence.rule}\n  terms: {terms}"
        )


def _mentioned(leaf: Leaf, doc: Doc) -> bool:
    """Does any word of the term occur in the paragraph (a phrase's words need not be in a row)?"""
    parts = leaf.parts if isinstance(leaf, Phrase) else (leaf.fids,)
    return any(doc.found(fids, ANY) for fids in parts)


def _is_part(word: str, start: int, end: int) -> bool:
    """Is word[start:end] a compound part (modifier or head), not an accident of spelling?"""
    if start == 0 and end == len(word):
        return False  # the whole word: the plain key lookup finds it
    if 0 < start < _MIN_LEFT:
        return False
    # A part after the first must start where a word ends: Waffen|embargo, Truppen|entsendung,
    # but not journa|listen|preis or ar|tikel (what stands left of it is no word).
    if start > 0 and not _is_words(word[:start]):
        return False
    # Offsets, not a copy of the rest: a long word holds many parts, each would copy it again.
    left = len(word) - end
    if left <= _LONGEST_ENDING and word[end:] in _ENDINGS:
        return True
    for link in _LINKS:
        if word.startswith(link, end):
            tail = end + len(link)
            if (
                left - len(link) >= _MIN_REST
                and not word.startswith(_DERIVATIONS, tail)
                # And a word must follow it: Truppen|entsendung, but not the English "sold"
                # in sold|aten.
                and _is_words(word[tail:])
            ):
                return True
    return False


def _is_words(left: str) -> bool:
    """Is `left` a German word, maybe with a linking element or an ending, or two of them
    (Kurzstrecken|raketen, Nordkorea|sanktionen, Langstrecken|bomber|piloten)?"""
    return _known_left(left, 2)


def _known_left(left: str, depth: int) -> bool:
    if len(left) < _MIN_LEFT:
        return False
    for link in _LINKS:
        stem = left[: len(left) - len(link)] if link else left
        if len(stem) >= _MIN_LEFT and left.endswith(link) and _known_german(stem):
            return True
    if depth > 1:
        for cut in range(_MIN_LEFT, len(left) - _MIN_LEFT + 1):
            if _known_german(left[:cut]) and _known_left(left[cut:], depth - 1):
                return True
    return False


def _known_german(fold: str) -> bool:
    """Is the folded string a German word form (nouns are listed capitalised)?"""
    candidates = {fold}
    for digraph, umlaut in _UMLAUTS_BACK:
        if digraph in fold:
            candidates |= {c.replace(digraph, umlaut) for c in candidates}
    return any(is_known(c, "de") or is_known(c[:1].upper() + c[1:], "de") for c in candidates)


def _score(occs: list[Occurrence], leaves: dict[int, Leaf]) -> float:
    """Distinct terms (weighted), +50% for a term also in the title, + proximity of terms.

    A term counts once however often it occurs, and not at all when every word it found was
    already found by another term (Nordkorea* and nordkoreanisch* on "nordkoreanischen").
    The proximity part is 0.5 for every further distinct term within a 10-word window around
    the densest spot, at most 2.
    """
    places: dict[int, set[int]] = {}
    for o in occs:
        if o[4] in leaves:
            places.setdefault(o[4], set()).add(o[0])
    covered: set[int] = set()
    counted: list[int] = []
    for leaf_id in sorted(places, key=lambda i: (-leaves[i].weight, i)):
        if not places[leaf_id] <= covered:
            counted.append(leaf_id)
            covered |= places[leaf_id]
    terms = sum(leaves[i].weight for i in counted)
    title = 0.5 * sum(leaves[i].weight for i in counted if min(places[i]) < BODY_BASE)
    kept = set(counted)
    ordered = sorted(dict.fromkeys((o[0], o[4]) for o in occs if o[4] in kept))
    # Sliding window over positions, counting the distinct terms inside it.
    counts: dict[int, int] = {}
    best = right = 0
    for left in range(len(ordered)):
        while right < len(ordered) and ordered[right][0] - ordered[left][0] <= _PROXIMITY_WINDOW:
            leaf = ordered[right][1]
            counts[leaf] = counts.get(leaf, 0) + 1
            right += 1
        best = max(best, len(counts))
        if best >= _PROXIMITY_ENOUGH:
            break  # the proximity part cannot grow further
        leaf = ordered[left][1]
        if counts[leaf] == 1:
            del counts[leaf]
        else:
            counts[leaf] -= 1
    proximity = min(_PROXIMITY_MAX, 0.5 * max(0, best - 1))
    return round(terms + title + proximity, 2)


def _evidence(topic: _Topic, doc: Doc, occs: list[Occurrence]) -> Evidence:
    positive = sorted(dict.fromkeys(o for o in occs if o[4] in topic.leaves))
    # The first few distinct terms in text order; a long text need not be read to its end.
    shown: dict[str, None] = {}
    for o in positive:
        shown.setdefault(doc.surface(o))
        if len(shown) == _TERMS_SHOWN:
            break
    terms = tuple(shown)
    rule = topic.node.fired(doc)
    body = [o for o in positive if o[0] >= BODY_BASE]
    text = doc.body if body else doc.title
    hits = body or positive
    snippet, spans = _snippet(text, hits)
    return Evidence(terms=terms, rule=rule, snippet=snippet, spans=spans)


def _snippet(text: str, hits: list[Occurrence]) -> tuple[str, tuple[tuple[int, int], ...]]:
    """About 260 characters around the densest group of hits, whitespace collapsed."""
    if not hits:
        return " ".join(text[:_SNIPPET].split()), ()
    spans = sorted(dict.fromkeys((o[2], o[3]) for o in hits))
    # The window of 80% of the snippet's length that holds the most hits (two pointers).
    reach = int(_SNIPPET * 0.8)
    best_left, best_right, right = 0, 1, 0
    for left in range(len(spans)):
        while right < len(spans) and spans[right][1] <= spans[left][0] + reach:
            right += 1
        if right - left > best_right - best_left:
            best_left, best_right = left, right
    inside = spans[best_left : max(best_right, best_left + 1)]
    lo, hi = inside[0][0], max(s[1] for s in inside)
    spare = max(0, _SNIPPET - (hi - lo))
    start = max(0, lo - spare // 2)
    end = min(len(text), hi + spare - (lo - start))
    start = max(0, min(start, end - _SNIPPET))
    # Cut at whitespace so that no word is broken.
    if start > 0:
        space = text.find(" ", start, lo)
        start = space + 1 if space != -1 else start
    if end < len(text):
        space = text.rfind(" ", hi, end)
        end = space if space != -1 else end
    piece = text[start:end]
    stripped = piece.lstrip()
    start += len(piece) - len(stripped)
    piece = stripped.rstrip()
    # Collapse whitespace runs (PDF line breaks); `marks` say how far later offsets move left.
    marks: list[int] = []
    removed: list[int] = []
    for m in _LOOSE_SPACE.finditer(piece):
        marks.append(m.end())
        removed.append((removed[-1] if removed else 0) + len(m.group()) - 1)
    body = _LOOSE_SPACE.sub(" ", piece) if marks else piece
    lead = "… " if start > 0 else ""
    snippet = lead + body + (" …" if end < len(text) else "")

    def moved(offset: int) -> int:
        local = offset - start
        k = bisect_right(marks, local)
        return len(lead) + local - (removed[k - 1] if k else 0)

    located = tuple(
        (moved(a), moved(b)) for a, b in spans if start <= a and b <= start + len(piece)
    )
    return snippet, located


def compile_topics(
    topics: Mapping[str, TopicConfig],
    aliases: Mapping[str, list[str]],
    prefilter: bool = True,
    max_chars: int = MAX_MATCH_CHARS,
) -> Matcher:
    """Compile every topic's query; raise TopicError naming the first one that does not compile."""
    return Matcher(topics, aliases, prefilter, max_chars)
