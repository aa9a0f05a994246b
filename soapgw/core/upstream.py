"""The OCPP-J upstream bridge as operators manage it: which stations are bridged, to which URL,
with which Basic-auth password; and each station's link state as the bridge reports it.

One function per act (the CLI and the web UI call the same ones), in the caller's
transaction; ``Invalid`` names the field at fault. Settings are keyed by chargeBoxId and may
be set before the station is registered (scripts configure first). A running bridge reloads
them every few seconds: no restart.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update

from soapgw.config import ws_url_problem
from soapgw.core.errors import Invalid
from soapgw.core.identifiers import CHARGE_BOX_ID_LENGTH, check_identifiers
from soapgw.core.upstream_secret import PasswordBox
from soapgw.store.database import Db
from soapgw.store.models import ChargeBox, Event, EventConsumer, UpstreamQueued, UpstreamStation
from soapgw.store.upsert import insert_for
from soapgw.timestamps import now

# Where the bridge has copied the outbox up to (core.upstream_queue.CONSUMER).
CONSUMER = "upstream-bridge"
MAX_PASSWORD_BYTES = 40  # OCPP 1.6 security whitepaper: AuthorizationKey 16..40 bytes


def _ensure_rows(db: Db, charge_box_ids: list[str]) -> None:
    db.execute(insert_for(db, UpstreamStation).values(
        [{"charge_box_id": i, "enabled": True, "connected": False, "changed_at": now()}
         for i in charge_box_ids]).on_conflict_do_nothing())


def unregistered(db: Db, charge_box_ids: list[str]) -> list[str]:
    known = set(db.scalars(select(ChargeBox.charge_box_id)
                           .where(ChargeBox.charge_box_id.in_(charge_box_ids))))
    return [i for i in charge_box_ids if i not in known]


def set_enabled(db: Db, charge_box_ids: list[str], enabled: bool) -> None:
    """Bridge the stations again (``on``) or keep them off the upstream central system."""
    ids = check_identifiers("ids", charge_box_ids, "charge point id", CHARGE_BOX_ID_LENGTH)
    _ensure_rows(db, ids)
    db.execute(update(UpstreamStation).where(UpstreamStation.charge_box_id.in_(ids))
               .values(enabled=enabled, changed_at=now()))


def set_url(db: Db, charge_box_id: str, url: str | None) -> None:
    """The station's own base URL (it connects to ``<url>/<encoded id>``); None: the default
    (``SOAPGW_UPSTREAM_URL``)."""
    [cb] = check_identifiers("id", [charge_box_id], "charge point id", CHARGE_BOX_ID_LENGTH)
    if url is not None:
        url = url.strip()
        problem = ws_url_problem(url)
        if problem:
            raise Invalid({"url": f"{url!r} {problem}"})
        url = url.rstrip("/")
    _ensure_rows(db, [cb])
    db.execute(update(UpstreamStation).where(UpstreamStation.charge_box_id == cb)
               .values(url=url, changed_at=now()))


def set_password(db: Db, charge_box_id: str, password: bytes | None, box: PasswordBox) -> None:
    """The Basic-auth password (security profiles 1 and 2), stored encrypted; None removes it
    (the station then connects without Basic auth)."""
    [cb] = check_identifiers("id", [charge_box_id], "charge point id", CHARGE_BOX_ID_LENGTH)
    if password is not None:
        if not password:
            raise Invalid({"password": "the password is empty"})
        if len(password) > MAX_PASSWORD_BYTES:
            raise Invalid({"password": f"the password has {len(password)} bytes, more than "
                                       f"the {MAX_PASSWORD_BYTES} OCPP 1.6 allows"})
    _ensure_rows(db, [cb])
    db.execute(update(UpstreamStation).where(UpstreamStation.charge_box_id == cb).values(
        password=box.seal(password) if password is not None else None, changed_at=now()))


@dataclass(frozen=True)
class LinkView:
    """One station's upstream state, as ``soapgw upstream status`` and the web UI show it."""

    charge_box_id: str
    enabled: bool
    url: str | None  # the station's own base URL, or None for the default
    has_password: bool
    connected: bool
    since: datetime | None  # connected since, or down since
    queue: int
    oldest: datetime | None
    last_error: str | None
    boot_status: str | None

    def as_status(self) -> dict:
        return {"charge_box_id": self.charge_box_id, "connected": self.connected,
                "since": self.since.isoformat() if self.since else None, "queue": self.queue,
                "oldest": self.oldest.isoformat() if self.oldest else None,
                "last_error": self.last_error if self.enabled else "off (soapgw upstream on)"}


def link_views(db: Db, charge_box_ids: list[str] | None = None) -> list[LinkView]:
    """Every Accepted station (or those named) with its link state and queue."""
    stations = select(ChargeBox.charge_box_id).where(
        ChargeBox.registration_status == "Accepted")
    if charge_box_ids is not None:
        stations = select(ChargeBox.charge_box_id).where(
            ChargeBox.charge_box_id.in_(charge_box_ids))
    ids = list(db.scalars(stations.order_by(ChargeBox.charge_box_id)))
    if not ids:
        return []
    links = {row.charge_box_id: row for row in db.scalars(
        select(UpstreamStation).where(UpstreamStation.charge_box_id.in_(ids)))}
    queue = {row[0]: (row[1], row[2]) for row in db.execute(
        select(UpstreamQueued.charge_box_id, func.count(), func.min(UpstreamQueued.created_at))
        .where(UpstreamQueued.charge_box_id.in_(ids))
        .group_by(UpstreamQueued.charge_box_id))}
    # What the bridge has not copied yet (it is not running, or a fraction of a second behind).
    cursor = db.scalar(select(EventConsumer.last_event_id).where(EventConsumer.name == CONSUMER))
    if cursor is not None:
        for cb, count, oldest in db.execute(
                select(Event.charge_box_id, func.count(), func.min(Event.created_at))
                .where(Event.id > cursor, Event.type == "station.message",
                       Event.charge_box_id.in_(ids)).group_by(Event.charge_box_id)):
            queued, first = queue.get(cb, (0, None))
            queue[cb] = (queued + count, first or oldest)
    views = []
    for cb in ids:
        link = links.get(cb)
        count, oldest = queue.get(cb, (0, None))
        views.append(LinkView(
            charge_box_id=cb, enabled=link.enabled if link else True,
            url=link.url if link else None, has_password=bool(link and link.password),
            connected=bool(link and link.connected and link.enabled),
            since=link.state_since if link else None, queue=count, oldest=oldest,
            last_error=link.last_error if link else None,
            boot_status=link.boot_status if link else None))
    return views
