"""What the core knows about one inbound message, whatever protocol carried it."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from soapgw.timestamps import now


@dataclass(frozen=True)
class Quirk:
    """Something the station did against the specification that we tolerated."""

    code: str
    detail: str


@dataclass(frozen=True)
class Presented:
    """What one request carries to prove which station it is, as the protocol edge read it
    (judged by core.station_auth)."""

    peer: str | None  # the client address (behind a trusted proxy: the forwarded one)
    username: str | None = None  # HTTP Basic
    password: str | None = None
    malformed_authorization: str | None = None  # why an Authorization header was unusable
    certificate: str | None = None  # from the client-certificate header of a trusted proxy
    certificate_untrusted: bool = False  # the header came from elsewhere: ignored


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
    # What the request presented to prove who it is (HTTP Basic, client certificate).
    credentials: Presented | None = None
    message_id: str | None = None  # the transport's message id (wsa:MessageID), as a hint
    quirks: list[Quirk] = field(default_factory=list)
    received_at: datetime = field(default_factory=now)
    # Facts the handling derived (core.events.NewEvent), published with the message's own
    # event in its transaction.
    events: list = field(default_factory=list)
    # The outside answer to a decision message (core.advice.Advice), asked before the
    # transaction by the edge; None: the core's own rules decide.
    advice: object | None = None

    def quirk(self, code: str, detail: str) -> None:
        self.quirks.append(Quirk(code, detail))
