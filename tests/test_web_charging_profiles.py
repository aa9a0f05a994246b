"""Web UI: the charging profile library (periods row by row, copy, delete), sending a stored
profile to a test station and seeing it installed, Clear and GetCompositeSchedule from the
station page, and local lists built from the tag table with the version shown."""
from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import func, select

from outbound_support import register_station, station_server
from soapgw.store.models import (ChargeBox, InstalledChargingProfile, StoredChargingProfile,
                                 Task)
from test_web_operations import runner  # noqa: F401  (fixture)
from web_support import XSS, admin, client, rows, submit, web_app  # noqa: F401

FORM = {"charging_profile_id": "21", "description": "Night cap", "stack_level": "2",
        "purpose": "TxDefaultProfile", "kind": "Absolute", "recurrency_kind": "",
        "valid_from": "", "valid_to": "", "charging_rate_unit": "A", "duration": "3600",
        "start_schedule": "2030-01-01T22:00", "min_charging_rate": "6",
        "periods-0-start_period": "0", "periods-0-limit": "16",
        "periods-1-start_period": "1800", "periods-1-limit": "10.5",
        "periods-1-number_phases": "3",
        "periods-2-start_period": "", "periods-2-limit": "", "note": ""}


def _stored(gateway) -> list[StoredChargingProfile]:
    with gateway.sessions() as db:
        return db.scalars(select(StoredChargingProfile)
                          .order_by(StoredChargingProfile.charging_profile_id)).all()


def _task_id(response) -> int:
    assert response.status_code == 302, response.text
    return int(response.headers["Location"].rsplit("/", 1)[1])


def test_add_a_profile_row_by_row_without_javascript(client, gateway):
    page = client.get("/charging-profiles/add")
    assert page.status_code == 200
    assert 'name="periods-2-limit"' in page.text and 'name="periods-3-limit"' not in page.text
    assert 'value="1"' in page.text  # the next free profile id is offered
    # "Add rows" keeps what was typed, saves nothing and offers more empty rows
    more = submit(client, "/charging-profiles/add", {**FORM, "more": "1"})
    assert more.status_code == 200 and 'name="periods-4-limit"' in more.text
    assert 'value="10.5"' in more.text and _stored(gateway) == []
    saved = submit(client, "/charging-profiles/add", FORM)
    assert saved.status_code == 302
    (stored,) = _stored(gateway)
    assert (stored.charging_profile_id, stored.stack_level, stored.duration) == (21, 2, 3600)
    assert json.loads(stored.periods) == [{"startPeriod": 0, "limit": "16"},
                                          {"startPeriod": 1800, "limit": "10.5",
                                           "numberPhases": 3}]
    listing = client.get("/charging-profiles/").text
    assert "Night cap" in listing and "TxDefaultProfile" in listing
    # the edit page shows the rows back, with empty ones below
    edit = client.get(f"/charging-profiles/{stored.id}").text
    assert 'name="periods-1-limit" type="text" value="10.5"' in edit
    assert 'name="periods-4-limit"' in edit


@pytest.mark.parametrize("changes,words", [
    ({"periods-0-start_period": "60"}, "The first period starts at 0 seconds"),
    ({"periods-1-limit": "10.55"}, "Row 2: 10.55 is not a multiple of 0.1"),
    ({"periods-1-limit": "ten"}, "&#39;ten&#39; is not a number"),
    ({"kind": "Recurring"}, "A Recurring profile needs Daily or Weekly"),
    ({"charging_profile_id": ""}, "Enter the profile id."),
])
def test_refusals_are_shown_next_to_the_fields(client, gateway, changes, words):
    response = submit(client, "/charging-profiles/add", {**FORM, **changes})
    assert response.status_code == 400 and words in response.text
    assert _stored(gateway) == []


def test_edit_copy_and_delete(client, gateway):
    submit(client, "/charging-profiles/add", {**FORM, "description": XSS})
    (stored,) = _stored(gateway)
    assert XSS not in client.get("/charging-profiles/").text
    edited = submit(client, f"/charging-profiles/{stored.id}",
                    {**FORM, "stack_level": "5", "periods-1-remove": "y"})
    assert edited.status_code == 302
    (stored,) = _stored(gateway)
    assert stored.stack_level == 5 and len(json.loads(stored.periods)) == 1
    copied = submit(client, "/charging-profiles/", {}, f"/charging-profiles/{stored.id}/copy")
    assert copied.status_code == 302
    assert [p.charging_profile_id for p in _stored(gateway)] == [21, 22]
    deleted = submit(client, f"/charging-profiles/{stored.id}/delete", {})
    assert deleted.status_code == 302
    assert [p.charging_profile_id for p in _stored(gateway)] == [22]


def test_stored_profile_sent_installed_shown_and_cleared(client, runner, gateway, rows):
    submit(client, "/charging-profiles/add", FORM)
    (stored,) = _stored(gateway)
    rows.station("CB-OLD", ocpp_version="1.5")
    with station_server("1.6") as (station, address):
        register_station(gateway.sessions, "CB-SC", "1.6", address)
        page = client.get(f"/charging-profiles/{stored.id}/send").text
        assert "CB-SC" in page and "Not offered: CB-OLD" in page
        # OCPP 1.5 stations are no choice
        refused = submit(client, f"/charging-profiles/{stored.id}/send",
                         {"stations": "CB-OLD", "connectors": "1"})
        assert refused.status_code == 400
        task_id = _task_id(submit(client, f"/charging-profiles/{stored.id}/send",
                                  {"stations": "CB-SC", "connectors": "1"}))
        assert runner.wait(task_id, timeout=30)
        with gateway.sessions() as db:
            payload = json.loads(db.get(Task, task_id).payload)
            pk = db.scalar(select(ChargeBox.id).where(ChargeBox.charge_box_id == "CB-SC"))
            old_pk = db.scalar(select(ChargeBox.id).where(ChargeBox.charge_box_id == "CB-OLD"))
        assert payload["connectorId"] == 1
        assert payload["csChargingProfiles"]["chargingSchedule"]["chargingSchedulePeriod"][1] \
            == {"startPeriod": 1800, "limit": 10.5, "numberPhases": 3}
        assert station.received[-1].operation == "SetChargingProfile"
        html = client.get(f"/chargepoints/{pk}").text
        section = html.split('id="charging-profiles"', 1)[1].split("</section>", 1)[0]
        assert f'href="/charging-profiles/{stored.id}">21</a>' in section
        assert "TxDefaultProfile" in section
        assert "OCPP 1.5 has no smart charging" in client.get(f"/chargepoints/{old_pk}").text
        # GetCompositeSchedule and Clear from the station page
        composite = _task_id(submit(client, f"/chargepoints/{pk}",
                                    {"composite-connector_id": "1",
                                     "composite-duration": "600", "composite-unit": "A"},
                                    f"/charging-profiles/station/{pk}/composite"))
        assert runner.wait(composite, timeout=30)
        cleared = _task_id(submit(client, f"/chargepoints/{pk}", {"clear-profile_id": "21"},
                                  f"/charging-profiles/station/{pk}/clear"))
        assert runner.wait(cleared, timeout=30)
    with gateway.sessions() as db:
        assert json.loads(db.get(Task, composite).payload) == {
            "connectorId": 1, "duration": 600, "chargingRateUnit": "A"}
        assert json.loads(db.get(Task, cleared).payload) == {"id": 21}
        assert db.scalar(select(func.count()).select_from(InstalledChargingProfile)) == 0
    assert [r.operation for r in station.received][-2:] == ["GetCompositeSchedule",
                                                          "ClearChargingProfile"]


def test_connectors_and_purposes_are_checked_when_sending(client, gateway, rows):
    submit(client, "/charging-profiles/add", {**FORM, "purpose": "ChargePointMaxProfile"})
    (stored,) = _stored(gateway)
    rows.station("CB-16", ocpp_version="1.6")
    response = submit(client, f"/charging-profiles/{stored.id}/send",
                      {"stations": "CB-16", "connectors": "1"})
    assert response.status_code == 400 and "connector 0 only" in response.text
    response = submit(client, f"/charging-profiles/{stored.id}/send",
                      {"stations": "CB-16", "connectors": "one"})
    assert response.status_code == 400 and "separated by commas" in response.text
    with gateway.sessions() as db:
        assert db.scalars(select(Task)).all() == []


@pytest.mark.parametrize("version", ["1.5", "1.6"])
def test_local_list_sent_and_version_shown(client, runner, gateway, rows, version):
    rows.tag("CARD-1")
    rows.tag("CARD-2", blocked=True)
    with station_server(version) as (station, address):
        register_station(gateway.sessions, "CB-LL", version, address)
        with gateway.sessions.begin() as db:
            db.execute(ChargeBox.__table__.update().values(local_list_version=4))
            pk = db.scalar(select(ChargeBox.id))
        form = client.get("/local-list/?station=CB-LL").text
        assert 'name="list_version" type="text" value="5"' in form \
            or re.search(r'id="list_version"[^>]*value="5"', form)
        task_id = _task_id(submit(client, "/local-list/", {
            "stations": "CB-LL", "list_version": "5", "update_type": "Full",
            "scope": "chosen", "id_tags": "CARD-2\nCARD-1\n"}))
        assert runner.wait(task_id, timeout=30)
        with gateway.sessions() as db:
            payload = json.loads(db.get(Task, task_id).payload)
        assert payload["localAuthorizationList"] == [
            {"idTag": "CARD-1", "idTagInfo": {"status": "Accepted"}},
            {"idTag": "CARD-2", "idTagInfo": {"status": "Blocked"}}]
        html = client.get(f"/chargepoints/{pk}").text
        assert re.search(r'class="local-list-version">5<', html)
        # GetLocalListVersion from the station page: the test station answers 7
        asked = _task_id(submit(client, f"/chargepoints/{pk}", {},
                                f"/local-list/station/{pk}/version"))
        assert runner.wait(asked, timeout=30)
    assert re.search(r'class="local-list-version">7<', client.get(f"/chargepoints/{pk}").text)
    assert [r.operation for r in station.received] == ["SendLocalList", "GetLocalListVersion"]


def test_local_list_refusals(client, gateway, rows):
    rows.tag("CARD-1")
    rows.station("CB-16", ocpp_version="1.6")
    for data, words in [({"scope": "chosen", "id_tags": "NOPE"}, "Not in the tag table: NOPE"),
                        ({"scope": "empty", "update_type": "Differential"},
                         "empty Differential update changes nothing")]:
        response = submit(client, "/local-list/", {"stations": "CB-16", "list_version": "1",
                                                   "update_type": "Full", **data})
        assert response.status_code == 400 and words in response.text
    with gateway.sessions() as db:
        assert db.scalars(select(Task)).all() == []


def test_operation_forms_pick_a_stored_profile(client, runner, gateway):
    submit(client, "/charging-profiles/add", FORM)
    submit(client, "/charging-profiles/add", {**FORM, "charging_profile_id": "30",
                                              "purpose": "TxProfile", "description": "Fast"})
    pks = {p.charging_profile_id: p.id for p in _stored(gateway)}
    assert "Stored charging profile" not in client.get("/operations/RemoteStartTransaction/1.5").text
    start_form = client.get("/operations/RemoteStartTransaction/1.6").text
    # RemoteStartTransaction takes only TxProfiles
    assert "#30 TxProfile – Fast" in start_form and "#21 " not in start_form
    with station_server("1.6") as (station, address):
        register_station(gateway.sessions, "CB-PICK", "1.6", address)
        missing = submit(client, "/operations/SetChargingProfile/1.6",
                         {"stations": "CB-PICK", "p_connectorId": "1"})
        assert missing.status_code == 400 and "Pick a stored profile, or give" in missing.text
        task_id = _task_id(submit(client, "/operations/SetChargingProfile/1.6", {
            "stations": "CB-PICK", "p_connectorId": "2", "stored_profile": str(pks[21])}))
        assert runner.wait(task_id, timeout=30)
        start_id = _task_id(submit(client, "/operations/RemoteStartTransaction/1.6", {
            "stations": "CB-PICK", "p_idTag": "TAG1", "p_connectorId": "1",
            "stored_profile": str(pks[30])}))
        assert runner.wait(start_id, timeout=30)
    with gateway.sessions() as db:
        sent = json.loads(db.get(Task, task_id).payload)
        started = json.loads(db.get(Task, start_id).payload)
        (installed,) = db.scalars(select(InstalledChargingProfile)).all()
    assert sent["connectorId"] == 2 and sent["csChargingProfiles"]["chargingProfileId"] == 21
    assert (installed.connector_id, installed.charging_profile_id) == (2, 21)
    assert started["chargingProfile"]["chargingProfileId"] == 30
    assert started["chargingProfile"]["chargingProfilePurpose"] == "TxProfile"


def test_station_buttons_refuse_stations_without_smart_charging(client, gateway, rows):
    old = rows.station("CB-OLD", ocpp_version="1.5")
    silent = rows.station("CB-SILENT")
    for station, words in ((old, "OCPP 1.5 has no smart charging"),
                           (silent, "has not spoken OCPP 1.5 or 1.6")):
        response = submit(client, f"/chargepoints/{station.id}", {"clear-profile_id": ""},
                          f"/charging-profiles/station/{station.id}/clear")
        assert response.status_code == 302
        assert words in client.get(response.headers["Location"]).text
    with gateway.sessions() as db:
        assert db.scalars(select(Task)).all() == []


def test_rows_are_bounded(client, gateway):
    rows = {f"periods-{i}-start_period": str(i * 60) for i in range(150)}
    rows.update({f"periods-{i}-limit": "16" for i in range(150)})
    response = submit(client, "/charging-profiles/add", {**FORM, **rows, "more": "1"})
    assert response.status_code == 200
    assert 'name="periods-102-limit"' in response.text
    assert 'name="periods-103-limit"' not in response.text
    assert _stored(gateway) == []
