"""docs/webhook-schema.json describes the standard payload exactly: real ones pass, broken fail."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from jsonschema import Draft202012Validator, ValidationError

from monitor.digest.payload import PAYLOAD_VERSION, encode_payload
from monitor.digest.render import render_digest
from monitor.models import Citation, Digest, Evidence, Match, OutageNotice, SourceHealth

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "docs" / "webhook-schema.json"
CREATED = datetime(2026, 11, 22, 6, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def validator(schema: dict[str, Any]) -> Draft202012Validator:
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def item(n: int, topic: str, **kw: Any) -> Match:
    snippet = kw.pop("snippet", f"Meldung {n}: Nordkoreanische Soldaten in Kursk eingetroffen.")
    values: dict[str, Any] = {
        "id": n,
        "topic": topic,
        "score": 2.25,
        "evidence": Evidence(("Kursk", "Soldaten"), "Kursk AND Soldaten", snippet, ((34, 39),)),
        "source_key": f"https://src{n}.example/feed",
        "source_name": f"Quelle {n}",
        "title": f"Schlagzeile {n}",
        "link": f"https://news.example/{n}?a=1&b=2",
        "text": snippet,
        "language": "de",
        "published": datetime(2026, 11, 21, 14, 2, tzinfo=UTC),
        "first_seen": datetime(2026, 11, 21, 14, 20, tzinfo=UTC),
    }
    values.update(kw)
    return Match(**values)


def failing(n: int) -> list[SourceHealth]:
    return [
        SourceHealth(
            f"https://feed{i}.example/rss",
            f"Feed {i}",
            "javascript:alert(1)" if i == 0 else f"https://feed{i}.example/rss",
            "error",
            None if i == 1 else datetime(2026, 11, 19, 8, 0, tzinfo=UTC),
            None if i == 2 else f"HTTP 503 from feed {i}",
        )
        for i in range(n)
    ]


def outages(n: int) -> list[OutageNotice]:
    """Outage notices of every kind: down, up and over, one with no error and an odd URL."""
    events = ("down", "up", "over")
    return [
        OutageNotice(
            outage_id=i,
            event=events[i % 3],  # type: ignore[arg-type]
            source_key=f"https://down{i}.example/rss",
            name=f"Down {i} \u202e<b>",
            url="javascript:alert(1)" if i == 0 else f"https://down{i}.example/rss",
            state="gone" if i == 4 else "failing",
            since=datetime(2026, 11, 21, 8, 0, tzinfo=UTC),
            until=None if i % 3 == 0 else datetime(2026, 11, 21, 9, 30, tzinfo=UTC),
            failures=2 + i,
            last_error=None if i == 1 else f"connection refused by down{i}.example:443",
        )
        for i in range(n)
    ]


def digest(topics: dict[str, list[Match]], **kw: Any) -> Digest:
    values: dict[str, Any] = {
        "id": "dg_5c4b3a29",
        "channel": "team_hook",
        "created": CREATED,
        "topics": topics,
        "topic_names": {"troop_deployment": "Truppen", "treaty_articles": "Vertrag"},
    }
    values.update(kw)
    return Digest(**values)


def english_digest() -> Digest:
    troops = [
        item(
            1,
            "troop_deployment",
            language="en",
            title="Troops arrive",
            citations=[Citation("briefing.docx", "see the report")],
            also_reported_by=["DW", "NK News"],
        ),
        item(2, "troop_deployment", language=None, published=None, title=None, link=None),
    ]
    return digest({"troop_deployment": troops}, language="en")


def german_alert() -> Digest:
    return digest(
        {"treaty_articles": [item(3, "treaty_articles")], "troop_deployment": []},
        language="de",
        urgent=True,
    )


def hostile_digest() -> Digest:
    bad = item(
        4,
        "troop_deployment",
        title="<script>alert(1)</script> \u202e\x00",
        link="javascript:alert(2)",
        snippet='<img src=x onerror=alert(3)> "quoted" & {{ 7*7 }}',
        source_name="<b>Evil</b>",
    )
    odd = item(5, "troop_deployment", link='https://ok.example/?q="><script>')
    return digest({"troop_deployment": [bad, odd]}, failing_sources=failing(3))


def big_digest() -> Digest:
    long_text = "Nordkoreanische Soldaten " * 200
    return digest(
        {
            "troop_deployment": [
                item(i, "troop_deployment", title="ü" * 400, snippet=long_text)
                for i in range(1, 151)
            ],
            "treaty_articles": [item(1000 + i, "treaty_articles") for i in range(150)],
        }
    )


def update_digest() -> Digest:
    """An edited feed entry the channel received before: kind "update" with what changed."""
    text = "Nordkoreanische Soldaten in Kursk: nach NIS-Angaben 10.000, Pjöngjang dementiert."
    edited = item(
        6,
        "troop_deployment",
        snippet=text,
        title="10.000 Soldaten in Kursk",
        previous="Nordkoreanische Soldaten in Kursk: nach NIS-Angaben 3.000.",
        previous_title="3.000 Soldaten in Kursk",
        revises=2,
    )
    return digest({"troop_deployment": [edited]}, language="en")


CASES: dict[str, Callable[[], Digest]] = {
    "an update": update_digest,
    "english digest": english_digest,
    "german alert": german_alert,
    "failing sources beyond the cap": lambda: digest({}, failing_sources=failing(60)),
    "empty digest": lambda: digest({}),
    "outages and recoveries": lambda: digest({}, outages=outages(3)),
    "outages beyond the cap": lambda: digest({}, outages=outages(60)),
    "empty german digest with empty topics": lambda: digest({"treaty_articles": []}, language="de"),
    "hostile text": hostile_digest,
    "truncated to the size limit": big_digest,
}


def payload_of(make: Callable[[], Digest]) -> dict[str, Any]:
    # Validate what goes over the wire, not the Python object before serialisation.
    rendered = render_digest(make(), ZoneInfo("Europe/Berlin"))
    return json.loads(encode_payload(rendered.payload))


@pytest.mark.parametrize("case", CASES)
def test_real_payloads_validate(validator: Draft202012Validator, case: str) -> None:
    payload = payload_of(CASES[case])
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(payload)]
    assert errors == []


def test_cases_cover_what_the_schema_distinguishes() -> None:
    payloads = {case: payload_of(make) for case, make in CASES.items()}
    [update] = payloads["an update"]["data"]["topics"]["troop_deployment"]["items"]
    assert update["kind"] == "update" and update["changes"][0] == {
        "before": "3.000",
        "after": "10.000",
    }
    assert update["change_summary"].startswith("What changed: the title “3.000” became “10.000”")
    assert payloads["german alert"]["type"] == "alert.created"
    assert payloads["german alert"]["data"]["language"] == "de"
    assert payloads["english digest"]["type"] == "digest.created"
    assert payloads["empty digest"]["data"]["topics"] == {}
    assert payloads["failing sources beyond the cap"]["data"]["failing_sources_omitted"] == 10
    assert payloads["truncated to the size limit"]["data"]["truncated"] is True
    told = payloads["outages and recoveries"]["data"]["outages"]
    assert [n["event"] for n in told] == ["down", "up", "over"]
    assert told[0]["until"] == "" and told[1]["last_error"] == "" and told[2]["until"]
    assert payloads["outages beyond the cap"]["data"]["outages_omitted"] == 10
    assert payloads["empty digest"]["data"]["outages"] == []
    items = payloads["english digest"]["data"]["topics"]["troop_deployment"]["items"]
    assert items[1]["link"] == "" and items[1]["published"] == "" and items[1]["title"] == ""


def test_version_field(schema: dict[str, Any]) -> None:
    payload = payload_of(english_digest)
    assert payload["version"] == PAYLOAD_VERSION == schema["properties"]["version"]["const"] == 1
    assert list(payload) == ["type", "version", "timestamp", "data"]


def _walk(node: Any, path: str = "#") -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            yield from _walk(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, f"{path}/{index}")


def test_every_field_is_described_and_closed(schema: dict[str, Any]) -> None:
    undocumented = []
    open_objects = []
    for path, node in _walk(schema):
        if path.startswith("#/allOf"):
            continue  # constraints between fields, not field definitions
        for name, sub in node.get("properties", {}).items():
            if "description" not in sub and "$ref" not in sub:
                undocumented.append(f"{path}/properties/{name}")
        is_object = node.get("type") == "object" and "properties" in node
        if is_object and node.get("additionalProperties") is not False:
            open_objects.append(path)
    for name, definition in schema["$defs"].items():
        if "description" not in definition:
            undocumented.append(f"#/$defs/{name}")
    assert undocumented == []
    assert open_objects == []


def _drop(*path: str) -> Callable[[dict[str, Any]], None]:
    def change(payload: dict[str, Any]) -> None:
        node = payload
        for key in path[:-1]:
            node = node[key]
        del node[path[-1]]

    return change


def _set(value: Any, *path: str | int) -> Callable[[dict[str, Any]], None]:
    def change(payload: dict[str, Any]) -> None:
        node: Any = payload
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return change


ITEM = ("data", "topics", "troop_deployment", "items", 0)
BROKEN: dict[str, Callable[[dict[str, Any]], None]] = {
    "no version": _drop("version"),
    "no data.subject": _drop("data", "subject"),
    "no item snippet": _drop(*ITEM, "snippet"),  # type: ignore[arg-type]
    "version 2": _set(2, "version"),
    "unknown top-level field": _set("x", "extra"),
    "unknown item field": _set("x", *ITEM, "html"),
    "javascript link": _set("javascript:alert(1)", *ITEM, "link"),
    "timestamp with offset": _set("2026-11-22T07:30:00+01:00", "timestamp"),
    "numeric score": _set(2.25, *ITEM, "score"),
    "alert that is not urgent": _set("alert.created", "type"),
    "topic id with a dot": lambda p: p["data"]["topics"].update(
        {"a.b": p["data"]["topics"]["troop_deployment"]}
    ),
}


def test_schema_rejects_a_payload_missing_a_required_field(
    validator: Draft202012Validator,
) -> None:
    payload = payload_of(english_digest)
    validator.validate(payload)
    del payload["data"]["item_count"]
    with pytest.raises(ValidationError, match="'item_count' is a required property"):
        validator.validate(payload)


@pytest.mark.parametrize("change", BROKEN)
def test_schema_rejects_broken_payloads(validator: Draft202012Validator, change: str) -> None:
    payload = copy.deepcopy(payload_of(english_digest))
    BROKEN[change](payload)
    assert not validator.is_valid(payload)
