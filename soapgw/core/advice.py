"""Decisions asked of someone outside before the core decides: an OCPP-J central system the
station is bridged to, an integrator's authorization endpoint.

The SOAP edge asks :meth:`CentralSystem.advise` after reading a decision message and before
opening its database transaction (an answer may take seconds; no write lock is held while
waiting). The advice travels on the ``StationCall``; the handler answers with it, and applies
its own rules only without it. An advisor answers None to let the next one (or the local
rules) decide: when it has no opinion, when its peer is away or too slow.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

# The messages whose answer is a decision (registration, authorization, vendor data).
DECISIONS = frozenset({"BootNotification", "Authorize", "StartTransaction", "DataTransfer"})


@dataclass(frozen=True)
class Advice:
    """The response message of the action as decided outside (for StartTransaction only its
    ``id_tag_info`` counts: the transaction id is always the gateway's own), and who decided
    (shown in the event of the message as ``decidedBy``)."""

    response: object
    source: str


class Advisor(Protocol):
    def advise(self, call, request) -> Advice | None:
        """The outside answer to ``request`` (a core request message), or None."""
