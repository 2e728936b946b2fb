"""Fast path for well-formed RSS 2.0 and Atom 1.0 feeds, built on lxml.

feedparser stays the reference: this module reproduces, for the fields `feeds.parse_feed` reads,
exactly what feedparser's strict parser would store (same value pipeline: strip, URI resolution,
feedparser's own HTML sanitizer for markup, its UTF-8/Latin-1 repair and cp1252 mapping, its date
parser), and returns None for anything it has not been checked against: malformed XML, other
feed versions, xml:base, XHTML or base64 content, elements whose feedparser handlers could touch
those fields from an unexpected place, repeated titles or ids, and so on. The caller then runs
feedparser, so an odd feed costs time, never a different result.

The input is the output of `feeds._prepare`: already decoded, DTD-free UTF-8.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from lxml import etree

from monitor.adapters.feedparser_internals import (
    CP1252,
    NAMESPACES,
    has_handler,
    looks_like_html,
    make_safe_absolute_uri,
    parse_date,
    resolve_relative_uris,
    sanitize_html,
    urljoin,
)

_ATOM_NS = "http://www.w3.org/2005/Atom"
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_TEXT_TYPES = frozenset({"text/plain", "text/html"})
_LINK_ENTITY = re.compile(r"&([A-Za-z0-9_]+);")
# An absolute http(s) URL that urllib's urljoin returns as it is, whatever the (parseable) base:
# lowercase scheme, a plain host (no user, no brackets, ASCII), no ";" in the path (urllib
# would split it off as parameters), a query and a fragment only when not empty (urllib drops
# an empty one), no spaces or controls (urllib removes or strips some). With a different
# scheme than the base urljoin returns the URL untouched; with the same one it splits and joins
# it again, which gives it back for exactly these. Most links of a feed look so, and joining
# them was a fifth of the feed's parse.
_PLAIN_URL = re.compile(
    r"https?://[A-Za-z0-9][A-Za-z0-9.\-]*(?::[0-9]+)?"
    r"(?:/[\w\-.~%!$&'()*+,/:=@]*)?"
    r"(?:\?[\w\-.~%!$&'()*+,/:;=@?]+)?"
    r"(?:#[\w\-.~%!$&'()*+,/:;=@?#]+)?",
    re.ASCII,
)

_TITLE = "title"
_SUMMARY = "summary"
_CONTENT = "content"
_ID = "id"
_LINK = "link"
_PUBLISHED = "published_parsed"
_UPDATED = "updated_parsed"
_CREATED = "created_parsed"
_LANGUAGE = "language"
_ENTRY = "entry"
_CONTAINER = "container"
_LEAF = "leaf"

# feedparser handler key -> (role, default content type) inside an item or entry.
_ENTRY_ROLES: dict[str, tuple[str, str]] = {
    "title": (_TITLE, "text/plain"),
    "description": (_SUMMARY, "text/html"),
    "summary": (_SUMMARY, "text/plain"),
    "content_encoded": (_CONTENT, "text/html"),
    "content": (_CONTENT, "text/plain"),
    "guid": (_ID, ""),
    "id": (_ID, ""),
    "link": (_LINK, ""),
    "pubdate": (_PUBLISHED, ""),
    "published": (_PUBLISHED, ""),
    "issued": (_PUBLISHED, ""),
    "dcterms_issued": (_PUBLISHED, ""),
    "updated": (_UPDATED, ""),
    "modified": (_UPDATED, ""),
    "lastbuilddate": (_UPDATED, ""),
    "dc_date": (_UPDATED, ""),
    "dcterms_modified": (_UPDATED, ""),
    "created": (_CREATED, ""),
    "dcterms_created": (_CREATED, ""),
}
_FEED_ROLES: dict[str, tuple[str, str]] = {
    "title": (_TITLE, "text/plain"),
    "language": (_LANGUAGE, ""),
    "dc_language": (_LANGUAGE, ""),
    "item": (_ENTRY, ""),
    "entry": (_ENTRY, ""),
    **{k: v for k, v in _ENTRY_ROLES.items() if v[0] in {_PUBLISHED, _UPDATED, _CREATED}},
}
# Elements with a feedparser handler that was read and found not to touch the fields we use when
# they hold only text (leaves), or only the listed children (containers).
_HARMLESS_LEAVES = frozenset(
    {
        "author", "managingeditor", "webmaster", "dc_creator", "dc_author", "dc_publisher",
        "category", "dc_subject", "enclosure", "generator", "copyright", "rights", "dc_rights",
        "cloud", "media_content", "media_thumbnail", "name", "email", "uri", "url", "homepage",
        "width", "height",
    }
)  # fmt: skip
_FEED_LEAVES = _HARMLESS_LEAVES | {"link", "description", "subtitle", "tagline", "id", "guid"}
_CONTAINERS: dict[str, frozenset[str]] = {
    "author": frozenset({"name", "email", "uri", "url", "homepage"}),
    "contributor": frozenset({"name", "email", "uri", "url", "homepage"}),
}
_FEED_CONTAINERS: dict[str, frozenset[str]] = {
    **_CONTAINERS,
    "image": frozenset({"title", "link", "url", "width", "height", "description"}),
    "textinput": frozenset({"title", "link", "description", "name"}),
}
# Handler-less element names that would overwrite a field we read.
_COLLIDING = frozenset(
    {"links", "title_detail", "summary_detail", "published_parsed", "updated_parsed",
     "created_parsed", "entries", "feed"}
)  # fmt: skip


class Unsupported(Exception):
    """The feed uses something the fast path does not reproduce; use feedparser."""


@dataclass(slots=True)
class FastFeed:
    """The parts of a feedparser result that `feeds.parse_feed` reads."""

    version: str
    feed: dict[str, Any] = field(default_factory=dict)
    entries: list[dict[str, Any]] = field(default_factory=list)


def parse_fast(data: bytes, url: str) -> FastFeed | None:
    """The feedparser-equivalent result for a plain RSS 2.0 / Atom 1.0 feed, else None."""
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        strip_cdata=True,
        collect_ids=False,
    )
    try:
        root = etree.fromstring(data, parser)
    except (etree.XMLSyntaxError, ValueError):
        return None
    if len(parser.error_log):
        return None  # namespace and other recoverable errors: feedparser decides
    try:
        return _Walker(root, data, url).run()
    except Unsupported:
        return None
    except Exception:  # feedparser survives its own helpers failing, so the fallback must too
        return None


class _Walker:
    """Reproduces feedparser's state machine for the supported subset of one document."""

    def __init__(self, root: etree._Element, data: bytes, url: str) -> None:
        self.root = root
        self.base = make_safe_absolute_uri("", url) or make_safe_absolute_uri(url) or ""
        # feedparser maps a document's own prefixes for known namespaces to its standard ones.
        # Declarations below the root would change that mapping midway: not supported.
        if data.count(b"xmlns") != len(root.nsmap):
            raise Unsupported("namespace declared below the root")
        self.prefixes: dict[str | None, str] = {}
        for prefix, uri in root.nsmap.items():
            std = NAMESPACES.get(_normal_ns(uri))
            if std is not None:
                self.prefixes[prefix] = std
        self.version = ""
        self.keys: dict[tuple[str, str | None], str] = {}
        self.plain_keys: dict[str, str] = {}

    def key(self, el: etree._Element) -> str:
        """feedparser's handler key for an element ("title", "dc_date", "foo_bar")."""
        tag = el.tag
        if not isinstance(tag, str):
            raise Unsupported("entity reference or other non-element node")
        plain = self.plain_keys.get(tag)
        if plain is not None:
            return plain  # a name without a namespace: its key does not depend on a prefix
        cache_key = (tag, el.prefix)
        cached = self.keys.get(cache_key)
        if cached is not None:
            return cached
        if tag.startswith("{"):
            ns, local = tag[1:].split("}", 1)
        else:
            ns, local = "", tag
        std = NAMESPACES.get(_normal_ns(ns))
        if std is None:
            if not el.prefix:
                raise Unsupported("element in an unknown default namespace")
            std = el.prefix
        std = std.lower()
        if std:
            std = self.prefixes.get(std, std)
        key = f"{std}_{local.lower()}" if std else local.lower()
        self.keys[cache_key] = key
        if not ns:
            self.plain_keys[tag] = key
        return key

    def run(self) -> FastFeed:
        root = self.root
        if root.tag == "rss":
            version = root.get("version", "")
            if not version.startswith("2.") or version in {"0.91", "0.92", "0.93", "0.94"}:
                raise Unsupported("not RSS 2.0")
            self.version = "rss20"
            channels = list(root)
            if len(channels) != 1 or self.key(channels[0]) != "channel" or channels[0].attrib:
                raise Unsupported("unusual RSS structure")
            container = channels[0]
        elif root.tag == f"{{{_ATOM_NS}}}feed" and root.get("version") is None:
            self.version = "atom10"
            container = root
        else:
            raise Unsupported("not RSS 2.0 or Atom 1.0")
        self._check_attrs(root, allowed={"version"})
        result = FastFeed(version=self.version)
        lang = root.get("{http://www.w3.org/XML/1998/namespace}lang")
        if lang:
            result.feed["language"] = lang.replace("_", "-")
        seen: set[str] = set()
        for child in container:
            key = self.key(child)
            role = _FEED_ROLES.get(key)
            if role is None:
                self._check_harmless(child, key, _FEED_LEAVES, _FEED_CONTAINERS)
                continue
            name, default_type = role
            if name == _ENTRY:
                if child.attrib:
                    raise Unsupported("attributes on an item (rdf:about, CDF)")
                result.entries.append(self._entry(child))
                continue
            self._check_attrs(child, allowed={"type"} if name == _TITLE else set())
            if name == _TITLE:
                if name in seen:
                    raise Unsupported("repeated feed title")
                seen.add(name)
                value, ctype = self._text(child, default_type)
                result.feed["title"] = value
                result.feed["title_detail"] = {"type": ctype, "value": value}
            elif name == _LANGUAGE:
                result.feed["language"] = self._plain(child)
            else:
                result.feed[name] = _parse_date(self._plain(child))
        return result

    def _entry(self, item: etree._Element) -> dict[str, Any]:
        entry: dict[str, Any] = {}
        seen: set[str] = set()
        for child in item:
            key = self.key(child)
            role = _ENTRY_ROLES.get(key)
            if role is None:
                self._check_harmless(child, key, _HARMLESS_LEAVES, _CONTAINERS)
                continue
            name, default_type = role
            if name in {_TITLE, _SUMMARY, _ID} and name in seen:
                raise Unsupported(f"repeated {name}")
            seen.add(name)
            if name == _LINK:
                self._link(child, entry)
                continue
            if len(child):
                raise Unsupported("markup inside a text element")
            if name == _ID:
                attrs = self._check_attrs(child, allowed={"ispermalink"})
                # feedparser treats a guid (and an Atom id) as a permalink unless told otherwise,
                # resolves it like a URL and lets it stand in for a missing link.
                is_link = attrs.get("ispermalink", "true") == "true"
                value = self._plain(child, resolve=is_link)
                entry["id"] = value
                if is_link:
                    entry.setdefault("link", value)
            elif name in {_TITLE, _SUMMARY, _CONTENT}:
                self._check_attrs(child, allowed={"type"})
                value, ctype = self._text(child, default_type)
                if name == _TITLE:
                    entry["title"] = value
                    entry["title_detail"] = {"type": ctype, "value": value}
                elif name == _SUMMARY:
                    entry["summary"] = value
                    entry["summary_detail"] = {"type": ctype, "value": value}
                else:
                    entry.setdefault("content", []).append({"type": ctype, "value": value})
                    entry.setdefault("summary", value)
            else:
                self._check_attrs(child, allowed=set())
                entry[name] = _parse_date(self._plain(child))
        return entry

    def _link(self, el: etree._Element, entry: dict[str, Any]) -> None:
        """feedparser's _start_link/_end_link for an entry."""
        if len(el):
            raise Unsupported("markup inside a link")
        attrs = self._check_attrs(el, allowed={"rel", "type", "href", "url", "uri", "hreflang",
                                               "title", "length"})  # fmt: skip
        rel = attrs.get("rel", "alternate").lower()
        ctype = attrs.get("type", "application/atom+xml" if rel == "self" else "text/html")
        ctype = _map_type(ctype.lower())
        # feedparser's _enforce_href: url, then uri, then href, but only a non-empty one.
        href = attrs.get("url", attrs.get("uri", attrs.get("href")))
        if not href:
            href = attrs.get("href")
        links = entry.setdefault("links", [])
        if href is not None:
            href = join_url(self.base, href)
            links.append({"rel": rel, "href": href})
            if rel == "alternate" and ctype in _HTML_TYPES:
                entry["link"] = href
            return
        link: dict[str, str] = {"rel": rel}
        links.append(link)
        value = self._plain(el, resolve=True)
        # feedparser undoes an escaping mistake common in link query strings.
        if "&" in value:
            value = _LINK_ENTITY.sub(r"&\g<1>", value.replace("&amp;", "&"))
        entry["link"] = value
        if value:
            link["href"] = value

    def _check_attrs(self, el: etree._Element, allowed: set[str]) -> dict[str, str]:
        """Attributes by lower-cased name; anything namespaced (xml:base) or unexpected is out."""
        attrs: dict[str, str] = {}
        for name, value in el.attrib.items():
            lower = name.lower()
            if lower.startswith("{") or lower not in allowed or lower in attrs:
                if lower == "{http://www.w3.org/xml/1998/namespace}lang" and el is self.root:
                    continue
                raise Unsupported(f"attribute {name}")
            attrs[lower] = value
        return attrs

    def _check_harmless(
        self,
        el: etree._Element,
        key: str,
        leaves: frozenset[str],
        containers: dict[str, frozenset[str]],
    ) -> None:
        """Raise unless feedparser would leave the fields we read alone for this subtree."""
        if key in _COLLIDING:
            raise Unsupported(f"element {key} collides with a result field")
        for name in el.attrib:
            if name.startswith("{http://www.w3.org/XML/1998/namespace}base"):
                raise Unsupported("xml:base")
        if not len(el):
            if key in leaves or key in containers or not has_handler(key):
                return
            raise Unsupported(f"element {key} not checked against feedparser")
        if key in containers:
            allowed = containers[key]
            for child in el:
                child_key = self.key(child)
                if child_key not in allowed or len(child):
                    raise Unsupported(f"{child_key} inside {key}")
                self._check_no_base(child)
            return
        if has_handler(key):
            raise Unsupported(f"element {key} with children")
        for sub in el.iterdescendants():
            sub_key = self.key(sub)
            if has_handler(sub_key) or sub_key in _COLLIDING:
                raise Unsupported(f"{sub_key} nested in {key}")
            self._check_no_base(sub)

    @staticmethod
    def _check_no_base(el: etree._Element) -> None:
        for name in el.attrib:
            if name.startswith("{http://www.w3.org/XML/1998/namespace}base"):
                raise Unsupported("xml:base")

    def _plain(self, el: etree._Element, resolve: bool = False) -> str:
        """feedparser's pop() for a non-content element (id, link, date, language)."""
        if len(el):
            raise Unsupported("markup inside a plain element")
        value = (el.text or "").strip()
        if resolve and value:
            value = join_url(self.base, value)
        return _repair(value)

    def _text(self, el: etree._Element, default_type: str) -> tuple[str, str]:
        """feedparser's pop_content() for a title, description, summary or content element."""
        if len(el):
            raise Unsupported("inline markup (XHTML content)")
        if el.get("mode") is not None or el.get("src") is not None:
            raise Unsupported("base64 or out-of-line content")
        ctype = _map_type(el.get("type", default_type).lower())
        if ctype not in _TEXT_TYPES:
            raise Unsupported(f"content type {ctype}")
        value = (el.text or "").strip()
        # RSS leaves it to readers to guess whether a title is HTML.
        if self.version != "atom10" and ctype == "text/plain" and looks_like_html(value):
            ctype = "text/html"
        if ctype in _HTML_TYPES:
            if "<" in value or "&" in value:
                value = resolve_relative_uris(value, self.base, "utf-8", ctype)
                value = sanitize_html(value, "utf-8", ctype)
            else:
                # Without markup or references both passes return their input (tested).
                value = value.replace("\r\n", "\n")
        return _repair(value), ctype


@lru_cache(maxsize=64)
def _parseable(base: str) -> bool:
    """Whether urllib parses ``base`` (else urljoin raises, whatever the URL joined to it)."""
    try:
        urlsplit(base)
    except ValueError:
        return False
    return True


def join_url(base: str, uri: str) -> str:
    """feedparser's ``_urljoin(base, uri)`` (urllib's urljoin), without parsing a plain absolute
    URL (see `_PLAIN_URL`), which it returns unchanged."""
    if _PLAIN_URL.fullmatch(uri) and _parseable(base):
        return uri
    return urljoin(base, uri)


def plain_url(uri: str, base: str) -> bool:
    """Whether urllib's ``urljoin(base, uri)`` is ``uri`` itself, an http(s) URL with a host."""
    return _PLAIN_URL.fullmatch(uri) is not None and _parseable(base)


def _normal_ns(uri: str | None) -> str:
    low = (uri or "").lower()
    # feedparser folds every backend.userland.com namespace into one.
    return "http://backend.userland.com/rss" if "backend.userland.com/rss" in low else low


def _map_type(ctype: str) -> str:
    if ctype in {"text", "plain"}:
        return "text/plain"
    if ctype == "html":
        return "text/html"
    if ctype == "xhtml":
        return "application/xhtml+xml"
    return ctype


def _repair(value: str) -> str:
    """feedparser's last steps for every value: undo UTF-8 read as Latin-1, map cp1252."""
    if value.isascii():
        return value  # both steps are the identity on ASCII, and most values are ASCII
    with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
        value = value.encode("iso-8859-1").decode("utf-8")
    # Translating with a dict costs a lookup per character; most text has no C1 control.
    return value.translate(CP1252) if _C1_CONTROLS.search(value) else value


# The characters CP1252 maps (C1 controls; a test checks the class against the table).
_C1_CONTROLS = re.compile("[\x80-\x9f]")


@lru_cache(maxsize=4096)
def _parse_date(value: str) -> Any:
    """feedparser's date parser (a time.struct_time, immutable, or None), remembered: a feed's
    entries often share a date, and they come again at every poll of the feed."""
    return parse_date(value)
