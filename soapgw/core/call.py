"""What the core knows about one inbound message, whatever protocol carried it."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from soapgw.core.timestamps import now


@dataclass(frozen=True)
class Quirk:
    """Something the station did against the specification that we tolerated."""

    code: str
    detail: str


@dataclass
class StationCall:
    charge_box_id: str
    action: str  # OCPP action name, e.g. "BootNotification"
    ocpp_version: str  # "1.5" | "1.6"
    transport: str = "SOAP"
    soap_version: str | None = None
    # Callback-address material, as announced: wsa:From, wsa:ReplyTo, and the TCP peer.
    announced_from: str | None = None
    announced_reply_to: str | None = None
    peer_host: str | None = None
    message_id: str | None = None  # the transport's message id (wsa:MessageID), as a hint
    quirks: list[Quirk] = field(default_factory=list)
    received_at: datetime = field(default_factory=now)

    def quirk(self, code: str, detail: str) -> None:
        self.quirks.append(Quirk(code, detail))
