"""The web surface: with a token, every route except the two probes refuses a request without it."""

from __future__ import annotations

from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer

from monitor.daemon import Daemon
from monitor.web import PUBLIC, make_app


async def test_every_route_but_the_probes_needs_the_token(tmp_path: Path) -> None:
    app = make_app(Daemon(tmp_path / "config.toml"), token="s3cret-token")
    paths = {
        info.get("path") or info.get("formatter")
        for route in app.router.routes()
        for info in [route.resource.get_info()]
        if route.resource is not None
    }
    assert paths >= {"/", "/metrics", "/healthz", "/readyz", "/feeds/{topic}.atom"}
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        for path in sorted(paths - PUBLIC):
            url = path.replace("{topic}", "t")
            for headers in (
                {},
                {"Authorization": "Bearer wrong"},
                {"Authorization": "s3cret-token"},
            ):
                resp = await client.get(url, headers=headers)
                assert resp.status == 401, (path, headers)
                assert resp.headers["X-Content-Type-Options"] == "nosniff"
        ok = await client.get("/metrics", headers={"Authorization": "Bearer s3cret-token"})
        assert ok.status == 200 and "monitor_poll_cycles_total" in await ok.text()
