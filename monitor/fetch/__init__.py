"""One HTTP path for every outbound request: SSRF gate, limits, politeness, conditional GET."""

# The gate before httpx: it keeps `import httpx` from loading httpx's command-line client
# (rich, pygments: some 40 ms of every `monitor once`), see `monitor.gate`.
import monitor.gate  # noqa: F401
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
