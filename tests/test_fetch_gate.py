"""The SSRF gate without a network: URL syntax, normalisation and address classification."""

from __future__ import annotations

import ipaddress

import pytest
from pydantic import ValidationError

from monitor.config import SourceConfig, WebhookChannel
from monitor.fetch import UrlRefused, check_url_syntax, normalize_url
from monitor.gate import address_allowed, describe_address

# Every spelling here must be refused, whatever else it does (peers.md §1.3 #3-6, #25, §6.1).
REFUSED_URLS = [
    # schemes other than http(s), in the spellings that slipped through elsewhere
    "file:///etc/passwd",
    "file:/etc/passwd",
    "file:etc/passwd",
    "file://localhost/etc/passwd",
    "FILE:///etc/passwd",
    "FiLe:///etc/passwd",
    " file:///etc/passwd",
    "\tfile:///etc/passwd",
    "\x00file:///etc/passwd",
    "source:file:///etc/passwd",
    "view-source:file:///etc/passwd",
    "ftp://example.com/file",
    "gopher://127.0.0.1:6379/_INFO",
    "data:text/html,<script>alert(1)</script>",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    " javascript:alert(1)",
    "java\tscript:alert(1)",
    "java\nscript:alert(1)",
    "jar:http://example.com/x.jar!/",
    "//example.com/no-scheme",
    "/etc/passwd",
    "example.com",
    "",
    # http(s) with a broken or ambiguous shape
    "http:/example.com/",
    "http:///example.com/",
    "https:////example.com/",
    "http:example.com",
    "http://",
    "http:// example.com/",
    "http://exa mple.com/",
    "http://example.com/\x7f",
    "http://example.com/a\rb",
    "http://example.com\u00a0/",
    # backslashes: a parser differential (GHSA-rph4-96w6-q594)
    "http://a\\@b/",
    "http://internal:8888\\@public.example/",
    "http:\\\\example.com\\",
    "http://example.com\\path",
    # user info of any kind
    "http://evil@127.0.0.1/",
    "http://user:pass@example.com/",
    "http://@example.com/",
    "http://example.com@127.0.0.1/",
    "http://127.0.0.1:80@example.com/",
    # IPv4 in unusual spellings, which some resolvers read as 127.0.0.1
    "http://2130706433/",
    "http://0x7f.1/",
    "http://0x7f000001/",
    "http://0177.0.0.1/",
    "http://0177.1/",
    "http://127.1/",
    "http://127.0.1/",
    "http://127.000.000.001/",
    "http://0x7f.0x0.0x0.0x1/",
    "http://1.2.3.4.5/",
    "http://256.0.0.1/",
    "http://example.0x10/",
    "http://example.123/",
    "http://０x7f.1/",
    # other host tricks
    "http://%31%32%37.0.0.1/",
    "http://[::1/",
    "http://[fe80::1%25eth0]/",
    "http://[not-ipv6]/",
    "http://a..b/",
    "http://.example.com/",
    "http://-bad-.example.com/",
    "http://exa_mple!.com/",
    # ports
    "http://example.com:0/",
    "http://example.com:65536/",
    "http://example.com:8o/",
    "http://example.com:-1/",
    # digits int() cannot read (superscripts: str.isdigit, not decimal), e.g. in a redirect
    "http://example.com:\u00b2/",
    "http://example.com:8\u00b2/",
]


@pytest.mark.parametrize("url", REFUSED_URLS)
def test_refused_spellings(url: str) -> None:
    with pytest.raises(UrlRefused):
        check_url_syntax(url)
    with pytest.raises(UrlRefused):
        normalize_url(url)


def test_refusals_say_why() -> None:
    def why(url: str) -> str:
        with pytest.raises(UrlRefused) as info:
            check_url_syntax(url)
        return str(info.value)

    assert "only http and https" in why("file:///etc/passwd")
    assert "user name or password" in why("http://evil@127.0.0.1/")
    assert "backslash" in why("http://a\\@b/")
    assert "unusual form" in why("http://2130706433/")
    assert "control character" in why("java\tscript:alert(1)")


@pytest.mark.parametrize(
    ("url", "normal"),
    [
        ("http://Example.COM", "http://example.com/"),
        ("HTTPS://Example.com:443/A/b?Q=1#frag", "https://example.com/A/b?Q=1"),
        ("http://example.com:80/", "http://example.com/"),
        ("http://example.com:8080/", "http://example.com:8080/"),
        ("https://example.com:80/", "https://example.com:80/"),
        ("http://example.com?x=1", "http://example.com/?x=1"),
        ("http://example.com./x", "http://example.com/x"),
        ("  https://example.com/x  ", "https://example.com/x"),
        ("https://münchen.de/straße", "https://xn--mnchen-3ya.de/stra%C3%9Fe"),
        ("https://MÜNCHEN.de/", "https://xn--mnchen-3ya.de/"),
        ("http://example.com/a%20b/%7e", "http://example.com/a%20b/%7e"),
        ("http://example.com/a/../b", "http://example.com/a/../b"),
        ("http://[2001:DB8::0:1]:8080/x", "http://[2001:db8::1]:8080/x"),
        ("http://192.0.2.1/", "http://192.0.2.1/"),
        ("http://example.com/#@127.0.0.1/", "http://example.com/"),
        ("http://example.com?@127.0.0.1/", "http://example.com/?@127.0.0.1/"),
        ("http://example.com/<x>", "http://example.com/%3Cx%3E"),
        ("http://under_score.example.com/", "http://under_score.example.com/"),
    ],
)
def test_normalize(url: str, normal: str) -> None:
    assert normalize_url(url) == normal
    assert check_url_syntax(url) == normal
    assert normalize_url(normal) == normal  # idempotent


def test_fullwidth_digits_are_mapped_before_the_ip_checks() -> None:
    # UTS 46 turns full-width digits into ASCII, so this is 127.0.0.1 and the address gate sees it.
    assert normalize_url("http://１２７.０.０.１/") == "http://127.0.0.1/"
    with pytest.raises(UrlRefused):
        normalize_url("http://１２７.１/")


def test_config_uses_the_gate() -> None:
    with pytest.raises(ValidationError, match="only http and https"):
        SourceConfig(url="file:///etc/passwd", kind="page")
    with pytest.raises(ValidationError, match="user name or password"):
        WebhookChannel(kind="webhook", url="https://user:pw@hooks.example/")
    assert SourceConfig(url="HTTPS://Example.com", kind="feed").url == "https://example.com/"


# address -> words the reason must contain
REFUSED_ADDRESSES = {
    "0.0.0.0": "unspecified",
    "0.1.2.3": "0.0.0.0/8",
    "127.0.0.1": "loopback",
    "127.0.0.2": "loopback",
    "127.255.255.254": "loopback",
    "10.0.0.1": "private",
    "172.16.0.1": "private",
    "172.31.255.255": "private",
    "192.168.1.1": "private",
    "169.254.169.254": "link-local (cloud metadata)",
    "169.254.1.1": "link-local",
    "100.64.0.1": "CGNAT",
    "100.127.255.254": "CGNAT",
    "224.0.0.1": "multicast",
    "239.255.255.250": "multicast",
    "240.0.0.1": "reserved",
    "255.255.255.255": "broadcast",
    "192.0.0.8": "IETF",
    "192.0.2.1": "documentation",
    "198.51.100.7": "documentation",
    "203.0.113.9": "documentation",
    "198.18.0.1": "benchmarking",
    "192.88.99.1": "6to4 relay",
    "::": "unspecified",
    "::1": "loopback",
    "fe80::1": "link-local",
    "fc00::1": "private",
    "fd12:3456::1": "private",
    "fd00:ec2::254": "cloud metadata",
    "ff02::1": "multicast",
    "2001:db8::1": "documentation",
    "fec0::1": "site-local",
    "100::1": "discard",
    # IPv4 inside IPv6: the reason names the address really reached
    "::ffff:127.0.0.1": "IPv4-mapped address of 127.0.0.1, which is loopback",
    "::ffff:100.64.0.1": "IPv4-mapped address of 100.64.0.1, which is shared address space (CGNAT)",
    "::ffff:169.254.169.254": "cloud metadata",
    "::ffff:10.1.2.3": "private",
    "2002:7f00:1::": "6to4 address of 127.0.0.1, which is loopback",
    "2002:a9fe:a9fe::1": "6to4 address of 169.254.169.254",
    "2002:c0a8:101::": "6to4 address of 192.168.1.1, which is private",
    "2001:0:4136:e378:8000:63bf:3fff:fdd2": "Teredo",
    "2001::1": "Teredo",
    "64:ff9b::7f00:1": "NAT64 address of 127.0.0.1, which is loopback",
    "64:ff9b::a9fe:a9fe": "NAT64 address of 169.254.169.254",
    "64:ff9b:1::1": "local-use NAT64",
    "::127.0.0.1": "IPv4-compatible",
}


@pytest.mark.parametrize(("address", "words"), sorted(REFUSED_ADDRESSES.items()))
def test_refused_addresses(address: str, words: str) -> None:
    reason = address_allowed(address, [])
    assert reason is not None
    assert reason.startswith(f"{ipaddress.ip_address(address)} is ")
    assert words in reason
    # ipaddress objects are accepted too
    assert address_allowed(ipaddress.ip_address(address), []) == reason


@pytest.mark.parametrize(
    "address",
    ["93.184.215.14", "1.1.1.1", "8.8.8.8", "2606:4700:4700::1111", "::ffff:1.1.1.1",
     "2002:0101:0101::1", "64:ff9b::101:101"],
)  # fmt: skip
def test_public_addresses_pass(address: str) -> None:
    assert address_allowed(address, []) is None


def test_metadata_reason_is_plain() -> None:
    assert address_allowed("169.254.169.254") == "169.254.169.254 is link-local (cloud metadata)"
    assert describe_address("169.254.169.254") == "link-local (cloud metadata)"


def test_allow_networks_let_named_networks_through() -> None:
    allow = ["127.0.0.1/32", "10.1.0.0/16"]
    assert address_allowed("127.0.0.1", allow) is None
    assert address_allowed("10.1.2.3", allow) is None
    assert address_allowed("::ffff:127.0.0.1", allow) is None  # the same host, IPv4-mapped
    # but not through a tunnel: a 6to4 relay or NAT64 gateway is another machine
    assert address_allowed("2002:7f00:1::", allow) == (
        "2002:7f00:1:: is a 6to4 address of 127.0.0.1, which is loopback"
    )
    assert address_allowed("64:ff9b::7f00:1", allow) is not None
    assert address_allowed("127.0.0.2", allow) == "127.0.0.2 is loopback"
    assert address_allowed("10.2.0.1", allow) == "10.2.0.1 is private"
    assert address_allowed("::1", allow) == "::1 is loopback"
    assert address_allowed("169.254.169.254", [ipaddress.ip_network("169.254.0.0/16")]) is None


def test_address_verdicts_remember_the_gate_and_leave_names_alone() -> None:
    from monitor.gate import AddressVerdicts

    verdicts = AddressVerdicts(["127.0.0.1/32"], limit=2)
    assert verdicts.refusal("127.0.0.1") is None
    assert verdicts.refusal("127.0.0.2") == "loopback"
    assert verdicts.refusal("169.254.169.254") is not None  # past the limit: still judged
    assert verdicts.refusal("::ffff:127.0.0.2") is not None
    assert verdicts.refusal("news.example.org") is None  # judged when resolved, not here


def test_a_widened_gate_admits_a_local_relay_and_nothing_more() -> None:
    """`allow_private` widens the gate by LOCAL_RELAY_NETWORKS for one destination: loopback and
    private ranges, never link-local (metadata), and the shared gate itself is left as it was."""
    from monitor.fetch.guard import AddressRefused, Gate
    from monitor.gate import LOCAL_RELAY_NETWORKS

    shared = Gate(["192.0.2.0/24"])
    relay = shared.widened(LOCAL_RELAY_NETWORKS)
    for address in ("127.0.0.1", "127.0.0.2", "::1", "10.0.0.1", "172.18.0.5", "192.168.1.2",
                    "fd12::1", "100.64.0.1", "::ffff:10.0.0.1", "192.0.2.7"):  # fmt: skip
        relay.check("relay.internal", address)
    for address, why in [
        ("169.254.169.254", "link-local (cloud metadata)"),
        ("169.254.1.1", "link-local"),
        ("fe80::1", "link-local"),
        ("0.0.0.0", "unspecified"),
        ("2002:7f00:1::", "a 6to4 address of 127.0.0.1, which is loopback"),
    ]:
        with pytest.raises(AddressRefused) as refused:
            relay.check("relay.internal", address)
        assert str(refused.value) == f"relay.internal resolves to {address}, which is {why}"
    with pytest.raises(AddressRefused, match=r"^127\.0\.0\.1 is loopback$"):
        shared.check("127.0.0.1", "127.0.0.1")
    assert shared.widened([]) is shared and shared.allow == relay.allow[:1]
    with pytest.raises(AddressRefused, match="not an IP address"):
        relay.check("relay.internal", "relay.internal")
