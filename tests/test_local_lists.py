"""Local authorization lists from the tag table (core.local_lists)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from soapgw.core import local_lists, ocppj
from soapgw.core.errors import Invalid
from soapgw.store.models import ChargeBox, IdTag

LATER = datetime(2099, 1, 1, tzinfo=timezone.utc)


@pytest.fixture
def tags(gateway):
    with gateway.sessions.begin() as db:
        db.add_all([IdTag(id_tag="PARENT"),
                    IdTag(id_tag="CARD-OK", parent_id_tag="PARENT", expiry_date=LATER),
                    IdTag(id_tag="CARD-BLOCKED", blocked=True),
                    IdTag(id_tag="CARD-OLD", expiry_date=datetime.now(timezone.utc)
                          - timedelta(days=1))])


def test_full_list_of_every_tag_carries_its_id_tag_info(gateway, tags):
    with gateway.sessions() as db:
        payload = local_lists.send_local_list_request(db, 4, "Full", None)
    assert ocppj.validate("SendLocalList", payload) == []
    entries = {e["idTag"]: e["idTagInfo"] for e in payload["localAuthorizationList"]}
    assert entries["CARD-OK"] == {"status": "Accepted", "expiryDate": "2099-01-01T00:00:00Z",
                                  "parentIdTag": "PARENT"}
    assert entries["CARD-BLOCKED"] == {"status": "Blocked"}
    assert entries["CARD-OLD"]["status"] == "Expired"
    assert (payload["listVersion"], payload["updateType"], len(entries)) == (4, "Full", 4)


def test_chosen_tags_empty_list_and_refusals(gateway, tags):
    with gateway.sessions() as db:
        chosen = local_lists.send_local_list_request(db, 2, "Differential", ["CARD-OK"])
        assert [e["idTag"] for e in chosen["localAuthorizationList"]] == ["CARD-OK"]
        empty = local_lists.send_local_list_request(db, 3, "Full", None, empty=True)
        assert empty["localAuthorizationList"] == []
        for args, field, words in [
                ((2, "Differential", None), {"empty": True}, "empty Differential"),
                ((2, "Full", ["NOPE", "CARD-OK"]), {}, "not in the tag table: NOPE"),
                ((0, "Full", None), {}, "use 1 to")]:
            with pytest.raises(Invalid) as refused:
                local_lists.send_local_list_request(db, *args, **field)
            assert words in " ".join(refused.value.problems.values())


def test_next_version_is_past_what_the_stations_hold(gateway):
    with gateway.sessions.begin() as db:
        assert local_lists.next_version(db) == 1
        db.add_all([ChargeBox(charge_box_id="A", local_list_version=7),
                    ChargeBox(charge_box_id="B", local_list_version=3),
                    ChargeBox(charge_box_id="C", local_list_version=-1)])
    with gateway.sessions() as db:
        assert local_lists.next_version(db) == 8
        assert local_lists.next_version(db, ["B", "C"]) == 4
        assert local_lists.next_version(db, ["C"]) == 1
