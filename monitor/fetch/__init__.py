"""One HTTP path for every outbound request: SSRF gate, limits, politeness, conditional GET."""

from monitor.fetch.client import Fetcher, FetchError, HttpResponse
from monitor.gate import UrlRefused, check_url_syntax, normalize_url

__all__ = [
    "FetchError",
    "Fetcher",
    "HttpResponse",
    "UrlRefused",
    "check_url_syntax",
    "normalize_url",
]
