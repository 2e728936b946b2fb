"""How long `monitor run` takes to stop after SIGTERM, in the worst cases we can build.

Each scenario starts the real daemon in a subprocess against local servers, waits until the
work it wants to interrupt is under way, sends SIGTERM and times the exit:

- idle: nothing in flight;
- stuck-parse: a page of 200,000 nested <div>s being parsed (parse_timeout 600 s);
- slow-fetches: 300 sources whose server answers after 120 s (as many in flight as allowed);
- stuck-delivery: an urgent alert posted to a webhook receiver that never answers.

    python benchmarks/bench_shutdown.py [--grace 7]

Prints, per scenario: seconds from SIGTERM to exit, the exit code, and whether the log holds a
traceback. Docker sends SIGKILL 10 s after SIGTERM: every figure must be below that.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

NESTED = (
    "<html><body>" + "<div>" * 200_000 + "Text" + "</div>" * 200_000 + "</body></html>"
).encode()
STORY = (
    "<html><body><article><h1>Truppen</h1><p>Nordkorea hat nach Angaben des NIS weitere 3.000 "
    "Soldaten nach Russland entsandt, die in Kursk kämpfen sollen.</p></article></body></html>"
).encode()


class Server:
    """Serves /nested, /story, /slow/<n> (after 120 s) and swallows POSTs (never answers)."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.hits.append(self.path)
                if self.path.startswith("/slow/"):
                    time.sleep(120)
                body = NESTED if self.path == "/nested" else STORY
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                outer.hits.append("POST " + self.path)
                time.sleep(120)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def config(base: str, scenario: str, grace: float) -> str:
    head = f"""
[http]
allow_networks = ["127.0.0.1/32"]
respect_robots = false
concurrency = 200
per_host_concurrency = 50
[poll]
tick_seconds = 1
baseline = false
parse_timeout = 600
shutdown_grace = {grace}
[web]
port = {free_port()}
[seeds]
path = "seeds"
[topics.troops]
query = "Soldaten"
urgent = true
"""
    if scenario == "stuck-parse":
        return head + f'[[sources]]\nurl = "{base}/nested"\nkind = "page"\n'
    if scenario == "slow-fetches":
        return head + "".join(
            f'[[sources]]\nurl = "{base}/slow/{i}"\nkind = "page"\n' for i in range(300)
        )
    if scenario == "stuck-delivery":
        return head + (
            f'[[sources]]\nurl = "{base}/story"\nkind = "page"\n'
            f'[channels.hook]\nkind = "webhook"\nurl = "{base}/hook"\nformat = "slack"\n'
            "alerts = true\ntimeout = 120\n"
        )
    return head + f'[[sources]]\nurl = "{base}/story"\nkind = "page"\n'


def ready(server: Server, scenario: str) -> bool:
    if scenario == "stuck-parse":
        return "/nested" in server.hits
    if scenario == "slow-fetches":
        return sum(h.startswith("/slow/") for h in server.hits) >= 50
    if scenario == "stuck-delivery":
        return any(h.startswith("POST") for h in server.hits)
    return "/story" in server.hits


def run(scenario: str, grace: float) -> dict[str, object]:
    server = Server()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "seeds").mkdir()
        (folder / "config.toml").write_text(config(server.base, scenario, grace))
        log = folder / "daemon.log"
        with log.open("w") as err:
            proc = subprocess.Popen(
                [sys.executable, "-m", "monitor", "--config", str(folder / "config.toml"), "run"],
                cwd=folder,
                stdout=subprocess.DEVNULL,
                stderr=err,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
            deadline = time.monotonic() + 180
            while not ready(server, scenario) and time.monotonic() < deadline:
                if proc.poll() is not None:
                    sys.exit(f"{scenario}: the daemon exited early:\n{log.read_text()[-2000:]}")
                time.sleep(0.1)
            time.sleep(1.5)  # let the work get properly stuck
            started = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            try:
                code = proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                proc.kill()
                code = proc.wait()
            seconds = time.monotonic() - started
        text = log.read_text()
    server.httpd.shutdown()
    return {
        "scenario": scenario,
        "seconds": round(seconds, 2),
        "exit": code,
        "traceback": "Traceback" in text,
        "cancelled": "shutdown: cancelling" in text,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grace", type=float, default=7.0)
    parser.add_argument(
        "--only", nargs="*", default=["idle", "stuck-parse", "slow-fetches", "stuck-delivery"]
    )
    args = parser.parse_args()
    print(f"{'scenario':16} {'SIGTERM→exit':>12} {'exit':>5} {'cancelled':>9} {'traceback':>9}")
    for scenario in args.only:
        row = run(scenario, args.grace)
        print(
            f"{row['scenario']:16} {row['seconds']:>10} s {row['exit']:>5} "
            f"{row['cancelled']!s:>9} {row['traceback']!s:>9}"
        )
        sys.stdout.flush()
        if os.environ.get("BENCH_JSON"):
            print(json.dumps(row))


if __name__ == "__main__":
    main()
