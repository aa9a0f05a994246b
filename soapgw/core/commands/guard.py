"""Judging a station's callback address when it announces one, and keeping the verdict on
the charge box (shown to operators; checked again before every call)."""
from __future__ import annotations

from soapgw.core.call import StationCall
from soapgw.core.commands.callback_policy import Verdict, judge_callback, resolve
from soapgw.core.station_columns import update_station
from soapgw.store.database import Db


def check_callback(db: Db, station, call: StationCall, learnt: str,
                   allowed_networks: tuple = ()) -> Verdict:
    """Judge the address commands would go to (a pinned one wins over ``learnt``) against
    where this message came from (``station``: a registration.Station or a ChargeBox). A
    refusal is recorded as a quirk; the message is still answered normally."""
    address = station.endpoint_address if station.endpoint_pinned else learnt
    verdict = judge_callback(address, resolve(address), pinned=station.endpoint_pinned,
                             peer_host=call.peer_host, allowed_networks=allowed_networks)
    if not verdict.allowed:
        call.quirk("callback-refused", f"{address}: {verdict.reason}")
    values = {"endpoint_peer_host": call.peer_host, "endpoint_verdict": verdict.label,
              "endpoint_verdict_reason": verdict.reason}
    if any(getattr(station, name) != value for name, value in values.items()):
        update_station(db, station.id, {"endpoint_checked_at": call.received_at, **values})
        for name, value in values.items():
            setattr(station, name, value)
    return verdict
