"""Stations that talked to us unregistered: list, accept (registers them), dismiss."""
from __future__ import annotations

from flask import Response as FlaskResponse
from spectree import Response
from sqlalchemy import select

from soapgw.api.db import db
from soapgw.api.paging import keyset, page
from soapgw.api.present import iso, link
from soapgw.api.problems import ApiProblem
from soapgw.api.routing import route
from soapgw.api.schemas import ChargePoint, PageQuery, UnknownStationPage
from soapgw.core import stations
from soapgw.core.errors import NotFound
from soapgw.store.models import UnknownChargeBox

TAG = "unknown stations"
ID_RULE = "<int(max=2147483647):unknown_id>"


def view(row) -> dict:
    return {"id": row.id, "chargeBoxId": row.charge_box_id, "firstSeen": iso(row.first_seen),
            "lastSeen": iso(row.last_seen), "attempts": row.attempts,
            "lastAction": row.last_action, "lastAddress": row.last_address,
            "links": {"accept": link("accept_unknown_station", unknown_id=row.id),
                      "dismiss": link("dismiss_unknown_station", unknown_id=row.id)}}


@route("GET", "/unknown-stations", tag=TAG, query=PageQuery,
       resp=Response(HTTP_200=UnknownStationPage))
def list_unknown_stations(query: PageQuery):
    """Unregistered stations that sent messages, most recent first."""
    rows, cursor = keyset(db(), select(UnknownChargeBox), UnknownChargeBox.id, query.limit,
                          query.cursor, last=lambda row: row.UnknownChargeBox.id)
    return page([view(row.UnknownChargeBox) for row in rows], cursor)


@route("POST", f"/unknown-stations/{ID_RULE}/accept", scope="admin", tag=TAG,
       resp=Response(HTTP_201=ChargePoint, HTTP_404=None))
def accept_unknown_station(unknown_id: int):
    """Register the station as Accepted (it is accepted at its next message)."""
    from soapgw.api.chargepoints import _interval, station_or_404, view as station_view
    try:
        charge_box_id = stations.accept_unknown(db(), unknown_id)
    except NotFound as error:
        raise ApiProblem(404, str(error)) from None
    db().commit()
    return station_view(station_or_404(charge_box_id), _interval()), 201, {
        "Location": link("get_chargepoint", charge_box_id=charge_box_id)}


@route("POST", f"/unknown-stations/{ID_RULE}/dismiss", scope="admin", tag=TAG,
       resp=Response(HTTP_204=None, HTTP_404=None))
def dismiss_unknown_station(unknown_id: int):
    """Forget the station; it shows up again if it talks to us again."""
    try:
        stations.dismiss_unknown(db(), unknown_id)
    except NotFound as error:
        raise ApiProblem(404, str(error)) from None
    db().commit()
    return FlaskResponse(status=204)
