"""The container's health probe: GET /healthz on the port the config gives the status server.

    python -m monitor.healthcheck   # exit 0 healthy, 1 not (one line on stderr says why)

The Dockerfile's HEALTHCHECK runs this rather than a fixed URL, so a `[web] port` changed in
`config.toml` (or by `MONITOR_WEB__PORT`) is probed where the daemon listens. It reads the
config only (no topics compiled, no state opened): it is run every minute.
"""

from __future__ import annotations

import sys
import urllib.error
import urllib.request

from monitor.config import ConfigError, load_config

# Seconds for the whole probe: Docker's --timeout (5 s) must not cut it first.
TIMEOUT = 4.0


def probe_url(host: str, port: int) -> str:
    """Where to reach a server listening on `host`: a wildcard address means this machine."""
    if host in ("0.0.0.0", ""):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}/healthz"


def main() -> int:
    try:
        web = load_config().web
    except ConfigError as exc:
        print(f"healthcheck: {exc}", file=sys.stderr)
        return 1
    if not web.enabled:
        print("healthcheck: [web] enabled = false, so there is nothing to probe", file=sys.stderr)
        return 0
    if web.port == 0:
        print(
            "healthcheck: [web] port = 0 (any free port) cannot be probed; set a port",
            file=sys.stderr,
        )
        return 1
    url = probe_url(web.host, web.port)
    try:
        # No proxy: $HTTP_PROXY (set for the sources behind a corporate proxy) must not carry
        # a probe of this very machine away.
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(url, timeout=TIMEOUT) as response:
            return 0 if response.status == 200 else 1
    except urllib.error.HTTPError as exc:
        said = exc.read(200).decode(errors="replace").strip()
        print(f"healthcheck: {url} answered {exc.code}: {said}", file=sys.stderr)
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        print(f"healthcheck: {url} unreachable: {reason}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
