"""Unknown id tags: recorded by core.unknown_tags (one counted row per tag), listed with Add
and Forget."""
from __future__ import annotations

from sqlalchemy import select

from soapgw.core import tags, unknown_tags
from soapgw.store.models import IdTag, UnknownIdTag
from web_support import admin, client, rows, submit, utc, web_app  # noqa: F401


def seen(gateway, id_tag, station, action, at):
    with gateway.sessions.begin() as db:
        unknown_tags.record(db, id_tag, station, action, at)


def test_recording_is_one_row_per_tag(gateway):
    seen(gateway, "STRANGER", "CB-1", "Authorize", utc(2026, 5, 1, 10))
    seen(gateway, "STRANGER", "CB-2", "StartTransaction", utc(2026, 5, 1, 11))
    seen(gateway, "OTHER", "CB-1", "Authorize", utc(2026, 5, 1, 12))
    with gateway.sessions() as db:
        rows = {u.id_tag: u for u in db.scalars(select(UnknownIdTag))}
    stranger = rows["STRANGER"]
    assert (stranger.count, stranger.first_seen, stranger.last_seen, stranger.last_action,
            stranger.last_charge_box_id) == (2, utc(2026, 5, 1, 10), utc(2026, 5, 1, 11),
                                             "StartTransaction", "CB-2")
    assert rows["OTHER"].count == 1


def test_list_add_and_forget(client, gateway):
    seen(gateway, "CARD-9", "CB-1", "Authorize", utc(2026, 5, 1, 10))
    seen(gateway, "CARD-8", "CB-2", "StartTransaction", utc(2026, 5, 1, 11))
    html = client.get("/tags/unknown/").text
    assert "<td>CARD-9</td>" in html and 'href="/chargepoints/by-id?id=CB-2">CB-2</a>' in html
    assert html.index("CARD-8") < html.index("CARD-9")  # the latest first
    assert "<strong>2</strong> unknown tags" in client.get("/").text
    assert "Unknown tags (2)" in client.get("/tags/").text
    with gateway.sessions() as db:
        ids = {u.id_tag: u.id for u in db.scalars(select(UnknownIdTag))}
    added = submit(client, "/tags/unknown/", {}, action=f"/tags/unknown/{ids['CARD-9']}/add")
    assert added.status_code == 302
    assert "Added id tag CARD-9" in client.get("/tags/unknown/").text
    forgot = submit(client, "/tags/unknown/", {},
                    action=f"/tags/unknown/{ids['CARD-8']}/forget")
    assert forgot.status_code == 302
    with gateway.sessions() as db:
        assert db.scalars(select(IdTag.id_tag)).all() == ["CARD-9"]
        tag = db.scalars(select(IdTag)).one()
        assert (tag.blocked, tag.max_active_transactions) == (False, 1)
        assert db.scalars(select(UnknownIdTag)).all() == []
    assert submit(client, "/tags/unknown/", {},
                  action=f"/tags/unknown/{ids['CARD-8']}/forget").status_code == 404


def test_a_tag_too_long_to_register_is_refused_readably(client, gateway):
    seen(gateway, "X" * 30, "CB-1", "Authorize", utc(2026, 5, 1, 10))
    with gateway.sessions() as db:
        pk = db.scalar(select(UnknownIdTag.id))
    response = submit(client, "/tags/unknown/", {}, action=f"/tags/unknown/{pk}/add")
    assert response.status_code == 302
    assert "Cannot add it: " in client.get("/tags/unknown/").text
    with gateway.sessions() as db:
        assert db.scalars(select(IdTag)).all() == [] and db.scalar(select(UnknownIdTag.id)) == pk


def test_registering_a_tag_elsewhere_takes_it_off_the_list(gateway):
    seen(gateway, "LATER", "CB-1", "Authorize", utc(2026, 5, 1, 10))
    with gateway.sessions.begin() as db:
        tags.add_tags(db, ["LATER"], tags.TagValues())
    with gateway.sessions() as db:
        assert db.scalars(select(UnknownIdTag)).all() == []


def test_forms_without_a_token_are_refused(client, gateway):
    seen(gateway, "T", "CB-1", "Authorize", utc(2026, 5, 1, 10))
    with gateway.sessions() as db:
        pk = db.scalar(select(UnknownIdTag.id))
    assert client.post(f"/tags/unknown/{pk}/add").status_code == 400
