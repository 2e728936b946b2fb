"""A real forward proxy on 127.0.0.1 for the proxy tests: CONNECT tunnels and absolute-URL GETs.

It records every request line and Proxy-Authorization header it receives, and only ever connects
onward to 127.0.0.1 (anything else gets 502 without a connection), so no test leaves the machine.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit


@dataclass
class ForwardProxy:
    port: int = 0
    requests: list[str] = field(default_factory=list)  # request lines, in order
    auth: list[str | None] = field(default_factory=list)  # their Proxy-Authorization

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while chunk := await reader.read(65536):
            writer.write(chunk)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        writer.close()


async def _handle(
    proxy: ForwardProxy, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, target, _version = lines[0].split(" ", 2)
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    proxy.requests.append(f"{method} {target}")
    proxy.auth.append(headers.get("Proxy-Authorization"))
    if method == "CONNECT":
        host, _, port = target.rpartition(":")
    else:
        parts = urlsplit(target)
        host, port = parts.hostname or "", str(parts.port or 80)
    if host.strip("[]") != "127.0.0.1":
        writer.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        await writer.drain()
        writer.close()
        return
    up_reader, up_writer = await asyncio.open_connection("127.0.0.1", int(port))
    if method == "CONNECT":
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        await writer.drain()
    else:
        parts = urlsplit(target)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        kept = [
            line
            for line in lines[1:]
            if line and not line.lower().startswith(("proxy-", "connection:"))
        ]
        up_writer.write(
            f"{method} {path} HTTP/1.1\r\n".encode("latin-1")
            + "".join(f"{line}\r\n" for line in kept).encode("latin-1")
            + b"Connection: close\r\n\r\n"
        )
        await up_writer.drain()
    await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))


@contextmanager
def forward_proxy() -> Iterator[ForwardProxy]:
    proxy = ForwardProxy()
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    holder: dict[str, asyncio.AbstractServer] = {}

    async def start() -> None:
        server = await asyncio.start_server(lambda r, w: _handle(proxy, r, w), "127.0.0.1", 0)
        proxy.port = server.sockets[0].getsockname()[1]
        holder["server"] = server
        ready.set()

    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(start(), loop)
    ready.wait(10)
    try:
        yield proxy
    finally:
        holder["server"].close()
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
