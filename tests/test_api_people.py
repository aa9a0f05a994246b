"""REST API: /api/v1/people (create, read, search, change, delete) and transactions by person,
over real HTTP; the rules are core.people's, as in the web UI."""
from __future__ import annotations

from datetime import datetime, timezone

from api_support import api, problem, tokens  # noqa: F401
from soapgw.store.models import ChargeBox, Connector, IdTag, Transaction


def seed(gateway):
    with gateway.sessions.begin() as db:
        db.add_all([IdTag(id_tag=name) for name in ("CARD-1", "CARD-2", "CARD-3")])
        station = ChargeBox(charge_box_id="CB-API")
        db.add(station)
        db.flush()
        connector = Connector(charge_box_pk=station.id, connector_id=1)
        db.add(connector)
        db.flush()
        for meter, tag in enumerate(("CARD-1", "CARD-2", "CARD-3")):
            db.add(Transaction(connector_pk=connector.id, id_tag=tag, meter_start=meter,
                               start_timestamp=datetime(2026, 1, 1, tzinfo=timezone.utc),
                               start_status="Accepted"))


def test_people_crud_and_transactions_by_person(api, gateway, tokens):
    seed(gateway)
    created = api.post("/api/v1/people", json={
        "firstName": "Jane", "lastName": "Doe", "email": "jane@example.org",
        "city": "Berlin", "idTags": ["CARD-1", "CARD-2"]})
    assert created.status_code == 201, created.text
    jane = created.json()
    assert (jane["idTags"], jane["email"], jane["phone"]) == (["CARD-1", "CARD-2"],
                                                              "jane@example.org", None)
    assert created.headers["Location"] == f"/api/v1/people/{jane['id']}"

    refused = problem(api.post("/api/v1/people", json={"lastName": "X", "idTags": ["CARD-1"]}),
                      422)
    assert refused["errors"][0]["field"] == "idTags" and "belongs to Jane Doe" in refused["detail"]
    refused = problem(api.post("/api/v1/people", json={"firstName": "Y", "email": "y@"}), 422)
    assert refused["errors"][0]["field"] == "email"
    problem(api.post("/api/v1/people", json={"email": "z@example.org"}), 422)  # no name
    problem(api.as_(tokens["read"]).post("/api/v1/people", json={"lastName": "R"}), 403)

    mine = api.get(f"/api/v1/transactions?person={jane['id']}").json()["items"]
    assert sorted(t["idTag"] for t in mine) == ["CARD-1", "CARD-2"]
    assert api.get(jane["links"]["transactions"]).json()["items"] == mine

    changed = api.patch(f"/api/v1/people/{jane['id']}", json={"phone": "+49 30 1", "note": None,
                                                              "idTags": ["CARD-3"]})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["phone"], changed.json()["city"], changed.json()["idTags"]) == (
        "+49 30 1", "Berlin", ["CARD-3"])
    kept = api.patch(f"/api/v1/people/{jane['id']}", json={"city": "Potsdam"}).json()
    assert (kept["idTags"], kept["firstName"]) == (["CARD-3"], "Jane")

    api.post("/api/v1/people", json={"firstName": "Max", "lastName": "Muster"})
    found = api.get("/api/v1/people?q=potsdam").json()["items"]
    assert [p["lastName"] for p in found] == ["Doe"]
    assert [p["lastName"] for p in api.get("/api/v1/people").json()["items"]] == ["Muster", "Doe"]

    assert api.delete(f"/api/v1/people/{jane['id']}").status_code == 204
    problem(api.get(f"/api/v1/people/{jane['id']}"), 404)
    problem(api.patch(f"/api/v1/people/{jane['id']}", json={"city": "X"}), 404)
    assert api.get("/api/v1/tags/CARD-3").status_code == 200  # the tag stays
