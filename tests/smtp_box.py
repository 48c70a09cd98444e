"""A real SMTP server on a free local port (aiosmtpd) that keeps every message it receives, for the e-mail tests."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


@dataclass
class Received:
    """One message as the server got it: the envelope recipients and the parsed e-mail."""

    rcpt_tos: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def body(self) -> str:
        part = self.message.get_body(("plain",))
        assert part is not None
        return str(part.get_content())


@dataclass
class Mailbox:
    """Where the server puts what it receives."""

    port: int
    received: list[Received] = field(default_factory=list)

    def to(self, address: str) -> list[Received]:
        return [r for r in self.received if address in r.rcpt_tos]

    @property
    def recipients(self) -> list[str]:
        return sorted(a for r in self.received for a in r.rcpt_tos)


class _Handler:
    def __init__(self, box: Mailbox) -> None:
        self.box = box

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.box.received.append(Received(list(envelope.rcpt_tos), parsed))
        return "250 Message accepted"


def free_port() -> int:
    """A port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def smtp_server() -> Iterator[Mailbox]:
    """Run the server for the block; yields its mailbox."""
    box = Mailbox(free_port())
    controller = Controller(_Handler(box), hostname="127.0.0.1", port=box.port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


def smtp_config(box: Mailbox) -> dict[str, Any]:
    """App settings that send through the server (plain SMTP on the loopback: no TLS, no login)."""
    return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": box.port, "SMTP_STARTTLS": False, "SMTP_USER": None,
            "SMTP_FROM": "auditdocs@example.org", "SMTP_TIMEOUT": 5}
