"""Where OCPP 1.5 and 1.6 spell things differently: the one table, both directions.

The core speaks 1.6 (``core/messages.py``). The SOAP 1.5 edges translate with this module: the
central system reading 1.5 stations (``soap/mapping/cs15.py``), the command client talking to
1.5 stations (``soap_out/json_mapping.py``) and the simulator's 1.5 stations
(``simulator/dialect.py``). Every value not listed is spelt the same in both versions; a value
outside both vocabularies passes unchanged (the reader has recorded it as a quirk), so nothing
a station reports is lost.

Why the lossy ones are as they are:

- ``Occupied`` -> ``Charging``: 1.6 split Occupied into Preparing/Charging/SuspendedEV/
  SuspendedEVSE/Finishing, and which one applies cannot be told from the message. SteVe, the
  reference SOAP central system, maps Occupied to Charging; operators' reports and dashboards
  built on it expect that, so we do the same (the connector is in use either way). The other
  way, each of the five is Occupied.
- Registration ``Pending`` -> ``Rejected``: 1.5 has no Pending; a station pending acceptance
  is answered Rejected (it retries its boot later either way).
- SendLocalList ``HashError`` -> ``Failed``: 1.6 has no hash, so no HashError (and the 1.5
  answer's ``hash`` has no place in the 1.6 answer).
- UnlockConnector: 1.5 answers Accepted/Rejected, 1.6 Unlocked/UnlockFailed/NotSupported.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType


@dataclass(frozen=True)
class Spelling:
    """One enumeration whose values differ between 1.5 and 1.6 (values not listed agree)."""

    to_16: Mapping[str, str]  # 1.5 value -> 1.6 value
    to_15: Mapping[str, str] = field(default_factory=dict)  # 1.6 value -> 1.5 value

    def v16(self, value):
        """The 1.6 spelling of a 1.5 value."""
        return self.to_16.get(value, value)

    def v15(self, value):
        """The 1.5 spelling of a 1.6 value."""
        return self.to_15.get(value, value)


def renamed(to_16: dict[str, str], *, also_to_15: dict[str, str] | None = None,
            one_way: bool = False) -> Spelling:
    """A Spelling from its 1.5 -> 1.6 table; the way back is the table inverted (unless
    ``one_way``: the 1.6 value exists in 1.5 too), plus ``also_to_15`` for 1.6 values that 1.5
    has no word of its own for."""
    back = {} if one_way else {v16: v15 for v15, v16 in to_16.items()}
    return Spelling(MappingProxyType(dict(to_16)),
                    MappingProxyType({**back, **(also_to_15 or {})}))


# --- CentralSystemService: what stations report --------------------------------------------
UNIT = renamed({"Amp": "A", "Volt": "V"})
ERROR_CODE = renamed({"Mode3Error": "EVCommunicationError"})
# The 1.6 statuses of a connector in use, which 1.5 calls Occupied.
OCCUPIED_16 = ("Preparing", "Charging", "SuspendedEV", "SuspendedEVSE", "Finishing")
CONNECTOR_STATUS = renamed({"Occupied": "Charging"},
                           also_to_15={status: "Occupied" for status in OCCUPIED_16})
REGISTRATION_STATUS = renamed({}, also_to_15={"Pending": "Rejected"})
# Response fields named differently: operation -> {1.6 name: 1.5 name}.
RESPONSE_FIELDS_15 = {"BootNotification": {"interval": "heartbeatInterval"}}

# --- ChargePointService: commands and their answers ----------------------------------------
UNLOCK_STATUS = renamed({"Accepted": "Unlocked", "Rejected": "UnlockFailed"},
                        also_to_15={"NotSupported": "Rejected"})
UPDATE_STATUS = renamed({"HashError": "Failed"}, one_way=True)
# The answer ``status`` of each command whose vocabulary differs.
ANSWER_STATUS: dict[str, Spelling] = {"UnlockConnector": UNLOCK_STATUS,
                                      "SendLocalList": UPDATE_STATUS}
# Request fields named differently: operation -> {1.6 name: 1.5 name} (British spelling).
REQUEST_FIELDS_15 = {"SendLocalList": {"localAuthorizationList": "localAuthorisationList"}}
# What a 1.5 answer has that the 1.6 answer does not allow.
ANSWER_FIELDS_ONLY_15 = {"SendLocalList": ("hash",)}
