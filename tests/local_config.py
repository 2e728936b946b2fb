"""Pieces of config.toml that the CLI tests share: loopback sources, the three delivery channels."""

from __future__ import annotations

# Sources on 127.0.0.1 (the gate refuses loopback otherwise); robots.txt is not served there.
LOOPBACK_HTTP = '[http]\nallow_networks = ["127.0.0.1/32"]\nrespect_robots = false\n'
NO_SEEDS = "[seeds]\nenabled = false\n"


def source(url: str, name: str = "Wire", kind: str = "feed") -> str:
    return f'[[sources]]\nname = "{name}"\nurl = "{url}"\nkind = "{kind}"\n'


def delivery_channels(
    smtp_port: int, hook_url: str, secret_env: str, *, hook_alerts: bool = False
) -> str:
    """A real SMTP server, a signed webhook and the file channel, none sending empty digests."""
    alerts = "alerts = true\n" if hook_alerts else ""
    return f"""[channels.mail]
kind = "email"
host = "127.0.0.1"
port = {smtp_port}
security = "none"
sender = "monitor@example.org"
recipients = ["analysts@example.org"]
send_empty = false

[channels.hook]
kind = "webhook"
url = "{hook_url}"
secret_env = "{secret_env}"
send_empty = false
{alerts}
[channels.files]
kind = "file"
send_empty = false
"""
