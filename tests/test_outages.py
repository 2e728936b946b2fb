"""Outages in the digests, through the real CLI: a local feed that goes down for several polls
and comes back is named once in the next digest of every channel ("not readable since …, last
error …") and its recovery once in the one after; a single failure that recovered stays out."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import lxml.etree
import lxml.html
import pytest
from sqlalchemy import text

from monitor.config import load_config
from monitor.digest.build import build_digest
from monitor.digest.render import render_digest
from monitor.models import Digest, FetchOutcome, FetchResult, OutageNotice, Source, SourceHealth
from monitor.store import FetchRecord, Store
from monitor.store.migrations import LATEST
from monitor.store.outages import OutageRule
from tests.conftest import ContentServer, SmtpSink, WebhookReceiver
from tests.local_config import LOOPBACK_HTTP, NO_SEEDS
from tests.test_end_to_end import SECRET_ENV, bodies, monitor, rss, shipped_topics

FEED = [
    (
        "wire-1",
        "North Korean troops arrive in Russia's Far East",
        "South Korea's intelligence service says special forces were shipped to Vladivostok.",
    ),
]
RSS_TYPE = "application/rss+xml; charset=utf-8"


def write_config(
    tmp: Path,
    srv: ContentServer,
    smtp: SmtpSink,
    hook: WebhookReceiver,
    digest: str = "",
    send_empty: bool = False,
) -> Path:
    empty = "true" if send_empty else "false"
    cfg = tmp / "config.toml"
    cfg.write_text(
        f"""
{LOOPBACK_HTTP}
{NO_SEEDS}
[digest]
{digest}

[[sources]]
name = "Wire down"
url = "{srv.base}/down.xml"
kind = "feed"

[[sources]]
name = "Wire fine"
url = "{srv.base}/fine.xml"
kind = "feed"

[channels.mail]
kind = "email"
host = "127.0.0.1"
port = {smtp.port}
security = "none"
sender = "monitor@example.org"
recipients = ["analysts@example.org"]
send_empty = {empty}

[channels.hook]
kind = "webhook"
url = "{hook.url}"
secret_env = "{SECRET_ENV}"
send_empty = {empty}

[channels.files]
kind = "file"
send_empty = {empty}

{shipped_topics()}
""",
        encoding="utf-8",
    )
    return cfg


def poll(cfg: Path) -> str:
    done = monitor(cfg, "once")
    assert done.returncode == 0 or "failed:" in done.stdout, done.stdout + done.stderr
    return done.stdout


def send(cfg: Path, hook: WebhookReceiver) -> str:
    sent = monitor(cfg, "digest", env={SECRET_ENV: hook.secret or ""})
    assert sent.returncode == 0, sent.stdout + sent.stderr
    return sent.stdout


def file_texts(tmp: Path) -> list[str]:
    """Every text digest the file channel wrote, oldest first."""
    folder = tmp / "state" / "digests"
    paths = sorted(folder.rglob("*.txt"), key=lambda p: p.stat().st_mtime_ns)
    return [p.read_text(encoding="utf-8") for p in paths]


def outage_entries(tmp: Path) -> list[tuple[str, str]]:
    """(id, title) of the outage entries in the troop_deployment Atom feed, newest first."""
    ns = {"a": "http://www.w3.org/2005/Atom"}
    feed = lxml.etree.parse(str(tmp / "state" / "feeds" / "troop_deployment.atom"))
    return [
        (e.findtext("a:id", namespaces=ns), e.findtext("a:title", namespaces=ns))
        for e in feed.getroot().iterfind("a:entry", ns)
        if ":outage/" in (e.findtext("a:id", namespaces=ns) or "")
    ]


@pytest.fixture
def world(
    tmp_path: Path,
    content_server: ContentServer,
    smtp_server: SmtpSink,
    webhook_receiver: WebhookReceiver,
) -> tuple[Path, ContentServer, SmtpSink, WebhookReceiver]:
    content_server.set("/down.xml", rss(FEED), RSS_TYPE)
    content_server.set("/fine.xml", rss(FEED), RSS_TYPE)
    return tmp_path, content_server, smtp_server, webhook_receiver


def test_an_outage_is_named_once_and_its_recovery_once_in_every_format(
    world: tuple[Path, ContentServer, SmtpSink, WebhookReceiver],
) -> None:
    tmp, srv, smtp, hook = world
    cfg = write_config(tmp, srv, smtp, hook, 'outage_after = "1h"\noutage_polls = 2')
    poll(cfg)  # the baseline: both readable

    srv.set("/down.xml", "unavailable", "text/plain", status=503)
    assert "failed: Wire down" in poll(cfg)
    send(cfg, hook)  # one failed poll, a minute old: not an outage yet, and nothing else to say
    assert not smtp.messages and not hook.accepted and not file_texts(tmp)

    poll(cfg)  # the second failed poll in a row: an outage
    send(cfg, hook)
    [mail] = smtp.wait(1)
    assert "1 source not readable" in str(mail["Subject"])
    text, html = bodies(mail)
    for part in (text, html):
        assert "Sources not readable" in part
        assert "Wire down" in part and "not readable since" in part
        assert "HTTP 503" in part  # the last error
        assert "Wire fine" not in part
    [payload] = hook.accepted
    [notice] = payload["data"]["outages"]
    assert notice["event"] == "down" and notice["name"] == "Wire down"
    assert notice["url"] == srv.base + "/down.xml" and notice["until"] == ""
    assert "HTTP 503" in notice["last_error"] and notice["failures"] == 2
    [written] = file_texts(tmp)
    assert "Wire down: not readable since" in written and "HTTP 503" in written
    [as_json] = (tmp / "state" / "digests").rglob("*.json")
    assert json.loads(as_json.read_text(encoding="utf-8"))["data"]["outages"] == [notice]
    # Atom: every topic's feed carries the outage as an entry of its own.
    [down_entry] = outage_entries(tmp)
    assert down_entry[1].startswith("Wire down: not readable since")

    # Still down at the next poll and digest: already told, nothing new to say.
    poll(cfg)
    send(cfg, hook)
    assert len(smtp.messages) == 1 and len(hook.accepted) == 1 and len(file_texts(tmp)) == 1

    srv.set("/down.xml", rss(FEED), RSS_TYPE)
    poll(cfg)
    send(cfg, hook)
    mail = smtp.wait(2)[1]
    assert "1 readable again" in str(mail["Subject"])
    text, html = bodies(mail)
    for part in (text, html):
        assert "Sources readable again" in part and "Sources not readable" not in part
        assert "Wire down" in part and "readable again since" in part
    [notice] = hook.accepted[1]["data"]["outages"]
    assert notice["event"] == "up" and notice["until"] and notice["since"]
    assert "Wire down: readable again since" in file_texts(tmp)[1]
    up_entry, again = outage_entries(tmp)
    assert again == down_entry and up_entry[0] == down_entry[0] + "/up"
    assert up_entry[1].startswith("Wire down: readable again since")

    # Told once per channel: the next digest has nothing to say about it.
    poll(cfg)
    send(cfg, hook)
    assert len(smtp.messages) == 2 and len(hook.accepted) == 2 and len(file_texts(tmp)) == 2


def test_a_single_failure_that_recovered_stays_out(
    world: tuple[Path, ContentServer, SmtpSink, WebhookReceiver],
) -> None:
    tmp, srv, smtp, hook = world
    cfg = write_config(tmp, srv, smtp, hook, send_empty=True)
    poll(cfg)
    srv.set("/down.xml", "unavailable", "text/plain", status=503)
    poll(cfg)
    srv.set("/down.xml", rss(FEED), RSS_TYPE)
    poll(cfg)
    send(cfg, hook)
    [mail] = smtp.wait(1)
    text, html = bodies(mail)
    for part in (text, html, str(mail["Subject"])):
        assert "Wire down" not in part and "readable" not in part
    assert hook.accepted[0]["data"]["outages"] == []


def test_a_source_unreadable_for_longer_than_outage_after_is_named(
    world: tuple[Path, ContentServer, SmtpSink, WebhookReceiver],
) -> None:
    tmp, srv, smtp, hook = world
    # Only one failed poll, but for longer than outage_after (1 s here; "1h" by default).
    cfg = write_config(tmp, srv, smtp, hook, 'outage_after = "1s"\noutage_polls = 10')
    poll(cfg)
    srv.set("/down.xml", "unavailable", "text/plain", status=503)
    poll(cfg)
    time.sleep(1.5)
    send(cfg, hook)
    [mail] = smtp.wait(1)
    assert "Wire down: not readable since" in bodies(mail)[0]
    assert [n["event"] for n in hook.accepted[0]["data"]["outages"]] == ["down"]


def test_an_outage_over_before_the_digest_is_told_with_both_times(
    world: tuple[Path, ContentServer, SmtpSink, WebhookReceiver],
) -> None:
    tmp, srv, smtp, hook = world
    cfg = write_config(tmp, srv, smtp, hook)
    poll(cfg)
    srv.set("/down.xml", "unavailable", "text/plain", status=503)
    poll(cfg)
    poll(cfg)
    srv.set("/down.xml", rss(FEED), RSS_TYPE)
    poll(cfg)
    send(cfg, hook)  # the source was unreadable at two polls, readable again before the digest
    [mail] = smtp.wait(1)
    text = bodies(mail)[0]
    assert "Wire down: readable again since" in text and "not readable from" in text
    assert "HTTP 503" in text
    [notice] = hook.accepted[0]["data"]["outages"]
    assert notice["event"] == "over" and notice["since"] < notice["until"]
    poll(cfg)
    send(cfg, hook)
    assert len(smtp.messages) == 1 and len(hook.accepted) == 1


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ("outage_polls = 0", "digest.outage_polls"),
        ('outage_after = "0s"', "digest.outage_after"),
        ('outage_after = "soon"', "digest.outage_after"),
        ("outage_afer = 60", "digest.outage_afer"),
    ],
)
def test_bad_outage_settings_are_one_clear_line(
    world: tuple[Path, ContentServer, SmtpSink, WebhookReceiver], setting: str, expected: str
) -> None:
    tmp, srv, smtp, hook = world
    cfg = write_config(tmp, srv, smtp, hook, setting)
    checked = monitor(cfg, "check", env={SECRET_ENV: "x"})
    assert checked.returncode == 2
    errors = [line for line in checked.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and expected in errors[0] and "line " in errors[0], checked.stderr


def test_a_dry_run_shows_an_outage_and_claims_it_for_no_channel(
    world: tuple[Path, ContentServer, SmtpSink, WebhookReceiver],
) -> None:
    tmp, srv, smtp, hook = world
    cfg = write_config(tmp, srv, smtp, hook)
    poll(cfg)
    srv.set("/down.xml", "unavailable", "text/plain", status=503)
    poll(cfg)
    poll(cfg)
    dry = monitor(cfg, "digest", "--dry-run", "--channel", "mail")
    assert "Wire down: not readable since" in dry.stdout
    # A dry run claims nothing: the real digest still tells it.
    send(cfg, hook)
    assert [n["name"] for n in hook.accepted[0]["data"]["outages"]] == ["Wire down"]
    assert "Wire down: not readable since" in bodies(smtp.wait(1)[0])[0]


# --- many sources at once: grouped by error, capped with counts --------------------------------


def visible(html: str) -> str:
    """What a reader of the HTML digest sees, as one line of words."""
    return " ".join(lxml.html.fromstring(html).text_content().split())


def notice(i: int, event: str, error: str | None) -> OutageNotice:
    return OutageNotice(
        outage_id=i,
        event=event,  # type: ignore[arg-type]
        source_key=f"https://src{i:02d}.example/feed",
        name=f"Source {i:02d}",
        url=f"https://src{i:02d}.example/feed",
        state="failing",
        since=datetime(2026, 12, 1, 6, 0, tzinfo=UTC),
        until=None if event == "down" else datetime(2026, 12, 1, 7, 15, tzinfo=UTC),
        failures=3,
        last_error=error,
    )


def test_a_mass_outage_is_grouped_by_error_and_capped() -> None:
    dead_host = "connection refused by wire.example:443"
    told = [notice(i, "down", dead_host) for i in range(30)]
    told += [notice(30 + i, "down", f"HTTP 50{i} from site {i}") for i in range(8)]
    told += [notice(40 + i, "up", dead_host) for i in range(15)]
    digest = Digest("dg_x", "mail", datetime(2026, 12, 1, 8, tzinfo=UTC), {}, {}, outages=told)
    rendered = render_digest(digest)
    text, html = rendered.text, visible(rendered.html)
    assert "38 sources not readable; 15 readable again" in rendered.subject
    for part in (text, html):
        assert part.count(dead_host) == 1  # one group for the dead host, not 30 lines
        assert "Source 09: not readable since 2026-12-01 06:00 UTC" in part
        assert "Source 10" not in part and "… and 20 more" in part
        assert "… and 4 more sources with other errors" in part
        assert "Source 49: readable again since 2026-12-01 07:15 UTC" in part
        assert "Source 50" not in part and "… and 5 more" in part
    assert text.count("\n- Source") == 10 + 4 + 10

    german = render_digest(
        Digest("dg_y", "mail", digest.created, {}, {}, outages=told[:1], language="de")
    )
    assert "Quellen nicht lesbar" in german.text
    assert "Source 00: nicht lesbar seit 2026-12-01 06:00 UTC" in german.text
    assert "Letzter Fehler: " + dead_host in german.text


def test_a_newly_unreadable_source_is_not_listed_twice(tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        '[channels.mail]\nkind = "file"\nsend_empty = false\n'
        '[topics.t]\nquery = "Kursk"\nurgent = true\n',
        encoding="utf-8",
    )
    config = load_config(cfg)
    health = SourceHealth(
        "https://src00.example/feed", "Source 00", "https://src00.example/feed", "failing",
        datetime(2026, 11, 28, tzinfo=UTC), "HTTP 503",
    )  # fmt: skip
    now = datetime(2026, 12, 1, 8, tzinfo=UTC)
    told = [notice(0, "down", "HTTP 503")]
    # An outage is news of its own: the digest goes out even though the channel sends no empty
    # ones, and the source is not listed a second time among the failing ones.
    built = build_digest(config, "mail", [], [health], now, outages=told)
    assert built is not None and built.failing_sources == [] and built.outages == told
    assert build_digest(config, "mail", [], [health], now) is None
    # Alerts are for urgent matches only.
    assert build_digest(config, "mail", [], [health], now, alert=True, outages=told) is None


# --- the store: spells, exactly once per channel, restarts, retention, upgrades -------------------

KEY = "https://a.example/feed"
RULE = OutageRule(polls=2, after=3600)
T0 = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)


def failed(store: Store, at: datetime, error: str = "HTTP 503 Service Unavailable") -> None:
    result = FetchResult(KEY, FetchOutcome.ERROR, status=503, error=error)
    store.record_fetch(KEY, result, at, 600)


def read(store: Store, at: datetime) -> None:
    store.record_fetches(
        [FetchRecord(KEY, FetchResult(KEY, FetchOutcome.NOT_MODIFIED), at, 600,
                     store.source_state(KEY))]
    )  # fmt: skip


def tell(store: Store, channel: str, at: datetime) -> list[OutageNotice]:
    """What the channel's digest at `at` says, claimed as a real digest claims it."""
    from monitor.store.outages import claim_outages

    told = store.pending_outages(channel, [KEY], at, RULE)
    with store.transaction() as conn:
        claim_outages(conn, channel, f"dg_{channel}_{at:%H%M}", told)
    return told


@pytest.fixture
def store(tmp_path: Path) -> Store:
    st = Store(tmp_path / "state")
    st.sync_sources(
        [Source(key=KEY, url=KEY, kind="feed", name="A", interval_seconds=600, origin="config")]
    )
    return st


def test_spells_are_told_once_per_channel_across_restarts(store: Store, tmp_path: Path) -> None:
    read(store, T0)
    failed(store, T0 + timedelta(minutes=10))
    assert tell(store, "mail", T0 + timedelta(minutes=20)) == []  # one failure, ten minutes
    # Still one failed poll, but over an hour ago: unreadable for longer than `after`.
    [down] = tell(store, "mail", T0 + timedelta(minutes=71))
    assert down.event == "down" and down.since == T0 + timedelta(minutes=10)
    assert down.last_error == "HTTP 503 Service Unavailable" and down.until is None
    failed(store, T0 + timedelta(minutes=80), "connection refused by a.example:443")
    store.close()

    again = Store(tmp_path / "state")  # a restart: what was told stays told
    assert tell(again, "mail", T0 + timedelta(minutes=90)) == []
    [late] = tell(again, "hook", T0 + timedelta(minutes=90))  # another channel hears it too
    assert late.event == "down" and late.failures == 2 and "refused" in (late.last_error or "")
    read(again, T0 + timedelta(minutes=100))
    [up] = tell(again, "mail", T0 + timedelta(minutes=110))
    assert up.event == "up" and up.until == T0 + timedelta(minutes=100)
    assert tell(again, "mail", T0 + timedelta(minutes=120)) == []
    assert [n.event for n in tell(again, "hook", T0 + timedelta(minutes=120))] == ["up"]
    # A channel first configured after the spell ended does not hear of it.
    again.sync_channels(["late"], T0 + timedelta(minutes=130))
    assert tell(again, "late", T0 + timedelta(minutes=140)) == []
    again.close()


def test_a_single_failure_never_counts_however_long_the_interval(store: Store) -> None:
    failed(store, T0)
    read(store, T0 + timedelta(hours=3))  # the next poll, hours later, read it again
    assert tell(store, "mail", T0 + timedelta(hours=4)) == []
    assert store.recent_outages(T0 + timedelta(hours=4), RULE) == []


def test_retention_forgets_spells_that_ended_long_ago(store: Store) -> None:
    failed(store, T0)
    failed(store, T0 + timedelta(minutes=10))
    read(store, T0 + timedelta(minutes=20))
    assert [n.event for n in tell(store, "mail", T0 + timedelta(minutes=30))] == ["over"]
    assert store.prune(T0 + timedelta(days=10), 30)["outages"] == 0
    assert store.prune(T0 + timedelta(days=31), 30)["outages"] == 1
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM outage_notices")).scalar() == 0


def test_the_migration_is_idempotent_and_upgrades_an_old_state(tmp_path: Path) -> None:
    import shutil

    from monitor.store.migrations import MIGRATIONS

    old = Path(__file__).parent / "data" / "state-v0.1.0"
    shutil.copytree(old, tmp_path / "state", ignore=shutil.ignore_patterns("*.md", "*.toml"))
    upgraded = Store(tmp_path / "state")
    assert upgraded.version == LATEST
    with upgraded.engine.begin() as conn:
        MIGRATIONS[-1](conn)  # run again: nothing to do, nothing fails
    assert upgraded.pending_outages("mail", [KEY], T0, RULE) == []
    upgraded.close()


def test_feeds_fall_behind_when_an_outage_changes(tmp_path: Path, store: Store) -> None:
    from monitor.outbox import feeds_behind

    cfg = tmp_path / "config.toml"
    cfg.write_text('[topics.t]\nquery = "Kursk"\n', encoding="utf-8")
    config = load_config(cfg)
    assert feeds_behind(config, store)  # never written
    (config.state_dir / "feeds").mkdir(parents=True)
    assert not feeds_behind(config, store)
    failed(store, datetime.now(UTC) + timedelta(seconds=5))  # after the feeds were written
    assert feeds_behind(config, store)


def test_chat_messages_name_outages_and_recoveries_first() -> None:
    from monitor.notify.slack import slack_payload
    from monitor.notify.teams import teams_payload

    told = [notice(1, "down", "HTTP 503 from wire"), notice(2, "up", "HTTP 503 from wire")]
    digest = Digest("dg_c", "chat", datetime(2026, 12, 1, 8, tzinfo=UTC), {}, {}, outages=told)
    slack = json.dumps(slack_payload(digest), ensure_ascii=False)
    teams = json.dumps(teams_payload(digest), ensure_ascii=False)
    for message in (slack, teams):
        assert "Source 01" in message and "not readable, since 2026-12-01 06:00 UTC" in message
        assert "HTTP 503 from wire" in message
        assert "Source 02" in message and "readable again, since 2026-12-01 07:15 UTC" in message


def test_the_outage_part_works_alone_behind_its_own_interface(store: Store) -> None:
    from monitor.store import interfaces
    from monitor.store.outages import OutageRecords

    part = OutageRecords(store.engine)
    assert isinstance(store, interfaces.OutageStore) and isinstance(part, interfaces.OutageStore)
    others = [interfaces.SourceStore, interfaces.DigestStore, interfaces.RetentionStore]
    assert not any(isinstance(part, other) for other in others)
    failed(store, T0)
    failed(store, T0 + timedelta(minutes=10))
    told = part.pending_outages("mail", [KEY], T0 + timedelta(hours=1), RULE)
    assert [n.event for n in told] == ["down"]
