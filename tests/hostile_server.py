"""Real HTTP servers for the fetch tests, listening on 127.0.0.x and misbehaving on request.

`HostileServer` is a tiny asyncio HTTP/1.1 server: it reads one request per connection and hands
it to the handler registered for the path, which writes whatever bytes it likes (a clean response,
a gzip bomb, a body that never ends, headers one byte at a time). It counts connections and
concurrent requests so tests can prove what reached it and what did not.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import ssl
import subprocess
import zlib
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType


@dataclass
class Seen:
    """One request as the server read it (header names lower-cased)."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


Handler = Callable[[Seen, asyncio.StreamWriter], Awaitable[None]]


def raw_response(
    status: int,
    body: bytes = b"",
    headers: Iterable[tuple[str, str]] = (),
    reason: str = "X",
) -> bytes:
    """Bytes of a complete response; Content-Length is added unless the headers frame the body."""
    headers = list(headers)
    names = {name.lower() for name, _ in headers}
    if "content-length" not in names and "transfer-encoding" not in names:
        headers.append(("Content-Length", str(len(body))))
    headers.append(("Connection", "close"))
    head = f"HTTP/1.1 {status} {reason}\r\n" + "".join(f"{n}: {v}\r\n" for n, v in headers)
    return head.encode("latin-1") + b"\r\n" + body


def reply(status: int = 200, body: bytes = b"", headers: Iterable[tuple[str, str]] = ()) -> Handler:
    """A handler that always sends the same response."""
    data = raw_response(status, body, headers)

    async def handler(request: Seen, writer: asyncio.StreamWriter) -> None:
        writer.write(data)

    return handler


def redirect(location: str, status: int = 302) -> Handler:
    """A handler that redirects to `location`."""
    return reply(status, b"", [("Location", location)])


def compressed_zeros(size: int, kind: str) -> bytes:
    """`size` zero bytes compressed as "gzip", "deflate" (zlib-wrapped) or "raw-deflate"."""
    wbits = {"gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS, "raw-deflate": -zlib.MAX_WBITS}
    packer = zlib.compressobj(9, zlib.DEFLATED, wbits[kind])
    block = bytes(1024 * 1024)
    parts = [packer.compress(block) for _ in range(size // len(block))]
    parts.append(packer.compress(bytes(size % len(block))))
    parts.append(packer.flush())
    return b"".join(parts)


def endless_chunks(chunk: bytes, headers: Iterable[tuple[str, str]] = ()) -> Handler:
    """A chunked body that never ends: `chunk` again and again until the client hangs up."""

    async def handler(request: Seen, writer: asyncio.StreamWriter) -> None:
        writer.write(raw_response(200, b"", [("Transfer-Encoding", "chunked"), *headers]))
        frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
        while True:
            writer.write(frame)
            await writer.drain()

    return handler


def drip(data: bytes, interval: float) -> Handler:
    """Send `data` one byte every `interval` seconds (a slowloris answer)."""

    async def handler(request: Seen, writer: asyncio.StreamWriter) -> None:
        for i in range(len(data)):
            writer.write(data[i : i + 1])
            await writer.drain()
            await asyncio.sleep(interval)

    return handler


def stall(data: bytes = b"") -> Handler:
    """Send `data`, then hold the connection open without sending more."""

    async def handler(request: Seen, writer: asyncio.StreamWriter) -> None:
        writer.write(data)
        await writer.drain()
        await asyncio.sleep(3600)

    return handler


def slow(handler: Handler, seconds: float) -> Handler:
    """Wait `seconds` before `handler` answers (to observe concurrency)."""

    async def delayed(request: Seen, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(seconds)
        await handler(request, writer)

    return delayed


async def _not_found(request: Seen, writer: asyncio.StreamWriter) -> None:
    writer.write(raw_response(404, b"no such path"))


class HostileServer:
    """An HTTP server on `host` (a 127.0.0.x address) with per-path handlers."""

    def __init__(self, host: str = "127.0.0.1", tls: ssl.SSLContext | None = None) -> None:
        self.host = host
        self.tls = tls
        self.port = 0
        self.routes: dict[str, Handler] = {}
        self.requests: list[Seen] = []
        self.connections = 0
        self.active = 0
        self.max_active = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def route(self, path: str, handler: Handler) -> None:
        """Serve `path` (query ignored) with `handler`; "*" catches every other path."""
        self.routes[path] = handler

    def url(self, path: str = "/", host: str | None = None) -> str:
        """URL of `path` on this server, optionally spelled with another host name."""
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{host or self.host}:{self.port}{path}"

    def paths(self) -> list[str]:
        """Paths requested so far, in order."""
        return [r.path for r in self.requests]

    async def start(self) -> HostileServer:
        self._server = await asyncio.start_server(self._serve, self.host, 0, ssl=self.tls)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    async def __aenter__(self) -> HostileServer:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.connections += 1
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, target, _ = lines[0].split(" ", 2)
            headers: dict[str, str] = {}
            for line in lines[1:]:
                if ":" in line:
                    name, value = line.split(":", 1)
                    headers[name.strip().lower()] = value.strip()
            body = b""
            if headers.get("content-length", "").isdigit():
                body = await reader.readexactly(int(headers["content-length"]))
            seen = Seen(method, target, headers, body)
            self.requests.append(seen)
            handler = self.routes.get(target.split("?", 1)[0]) or self.routes.get("*", _not_found)
            self.active += 1
            self.max_active = max(self.max_active, self.active)
            try:
                await handler(seen, writer)
                await writer.drain()
            finally:
                self.active -= 1
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass  # the client hung up, which is what these tests usually want it to do
        except ssl.SSLError:
            pass  # a client that refused our certificate
        finally:
            writer.close()
            self._tasks.discard(task)


def closed_port(host: str = "127.0.0.1") -> int:
    """A port on `host` where nothing listens, so connecting is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def make_certificate(folder: Path, name: str) -> tuple[Path, Path] | None:
    """A self-signed certificate for DNS name `name` (cert, key), made with openssl; None if
    the openssl command is not available."""
    openssl = shutil.which("openssl")
    if openssl is None:
        return None
    cert, key = folder / f"{name}.crt", folder / f"{name}.key"
    subprocess.run(
        [
            openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", f"/CN={name}",
            "-addext", f"subjectAltName=DNS:{name}",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key
