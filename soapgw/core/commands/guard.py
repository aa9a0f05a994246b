"""Judging a station's callback address and keeping the verdict on the charge box (shown to
operators; checked again, with a fresh DNS look-up, before every call).

The one place that applies ``callback_policy.judge_callback`` to a station: when it announces
an address (inbound messages), when an operator sets or unpins one, and before every command.
"""
from __future__ import annotations

from datetime import datetime

from soapgw.core.call import StationCall
from soapgw.core.commands.callback_policy import Verdict, judge_callback, resolve
from soapgw.core.station_columns import update_station
from soapgw.store.database import Db
from soapgw.timestamps import now


def judge(address: str | None, *, pinned: bool, peer_host: str | None,
          allowed_networks: tuple = ()) -> Verdict:
    """May commands go to ``address``? Resolves its host now (DNS answers change)."""
    return judge_callback(address, resolve(address), pinned=pinned, peer_host=peer_host,
                          allowed_networks=allowed_networks)


def record_verdict(db: Db, station_pk: int, verdict: Verdict | None,
                   at: datetime | None = None, **extra) -> None:
    """Store the verdict on the charge box (None: no address, nothing to judge)."""
    update_station(db, station_pk, {
        "endpoint_verdict": verdict.label if verdict else None,
        "endpoint_verdict_reason": verdict.reason if verdict else None,
        "endpoint_checked_at": (at or now()) if verdict else None, **extra})


def check_callback(db: Db, station, call: StationCall, learnt: str,
                   allowed_networks: tuple = ()) -> Verdict:
    """Judge the address commands would go to (a pinned one wins over ``learnt``) against
    where this message came from (``station``: a registration.Station). A refusal is recorded
    as a quirk; the message is still answered normally."""
    address = station.endpoint_address if station.endpoint_pinned else learnt
    verdict = judge(address, pinned=station.endpoint_pinned, peer_host=call.peer_host,
                    allowed_networks=allowed_networks)
    if not verdict.allowed:
        call.quirk("callback-refused", f"{address}: {verdict.reason}")
    values = {"endpoint_peer_host": call.peer_host, "endpoint_verdict": verdict.label,
              "endpoint_verdict_reason": verdict.reason}
    if any(getattr(station, name) != value for name, value in values.items()):
        record_verdict(db, station.id, verdict, call.received_at,
                       endpoint_peer_host=call.peer_host)
        for name, value in values.items():
            setattr(station, name, value)
    return verdict
