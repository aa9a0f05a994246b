"""What a station's answer to a command means: accepted, refused, or no answer at all (failed,
timed out). Pure functions over a task result's state and its OCPP-J 1.6 response, shared by
the web UI, the REST API and the command line, so each shows the same truth.

A station that answers ``Rejected``, ``Occupied``, ``NotSupported`` ... did answer (the task
result's state is ``answered``) but declined: that is a refusal, not a success."""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from soapgw.core.enums import TaskOutcome, TaskState


@dataclass(frozen=True)
class Acceptance:
    """Which answers of one operation are acceptance. ``field``: the response field that
    tells (None: any well-formed answer accepts); ``accepted``: its accepting values, or
    ``refused``: its refusing values (everything else accepts)."""

    field: str | None = None
    accepted: frozenset = frozenset()
    refused: frozenset = frozenset()

    def accepts(self, response: dict) -> tuple[bool, object]:
        """(accepted?, the value that decided)."""
        if self.field is None:
            return True, None
        value = response.get(self.field)
        if self.refused:
            return value not in self.refused, value
        return value in self.accepted, value


def _status(*accepted: str) -> Acceptance:
    return Acceptance("status", accepted=frozenset(accepted))


# Every ChargePointService operation (OCPP-J 1.6 names; OCPP 1.5 answers arrive renamed to
# them, e.g. UnlockConnector Accepted -> Unlocked). The refusing vocabularies, for the reader:
ACCEPTANCE: dict[str, Acceptance] = {
    "CancelReservation": _status("Accepted"),  # Rejected
    "ChangeAvailability": _status("Accepted", "Scheduled"),  # Rejected; Scheduled: after the
    #                                                          transaction under way
    "ChangeConfiguration": _status("Accepted", "RebootRequired"),  # Rejected, NotSupported
    "ClearCache": _status("Accepted"),  # Rejected
    "ClearChargingProfile": _status("Accepted"),  # Unknown: no such profile
    "DataTransfer": _status("Accepted"),  # Rejected, UnknownMessageId, UnknownVendorId
    "GetCompositeSchedule": _status("Accepted"),  # Rejected
    "GetConfiguration": Acceptance(),  # keys and unknown keys: an answer is the result
    "GetDiagnostics": Acceptance(),  # a file name, or none to upload
    # -1: the station has no local authorization list at all (OCPP 1.6, 5.10)
    "GetLocalListVersion": Acceptance("listVersion", refused=frozenset({-1})),
    "RemoteStartTransaction": _status("Accepted"),  # Rejected
    "RemoteStopTransaction": _status("Accepted"),  # Rejected
    "ReserveNow": _status("Accepted"),  # Faulted, Occupied, Rejected, Unavailable
    "Reset": _status("Accepted"),  # Rejected
    "SendLocalList": _status("Accepted"),  # Failed, NotSupported, VersionMismatch
    "SetChargingProfile": _status("Accepted"),  # Rejected, NotSupported
    "TriggerMessage": _status("Accepted"),  # Rejected, NotImplemented
    "UnlockConnector": _status("Unlocked"),  # UnlockFailed, NotSupported
    "UpdateFirmware": Acceptance(),  # an empty answer
}

_WAITING = {TaskState.queued, TaskState.sent}
_WORDS = {TaskOutcome.accepted: "accepted", TaskOutcome.refused: "refused",
          TaskOutcome.failed: "failed", TaskOutcome.timed_out: "timed out",
          TaskOutcome.pending: "waiting"}
_ORDER = list(_WORDS)


@dataclass(frozen=True)
class Verdict:
    """One station's outcome and the word for it (``refused: Occupied``)."""

    outcome: TaskOutcome
    reason: str | None = None  # the answer that refused, e.g. "Occupied"

    @property
    def text(self) -> str:
        word = _WORDS[self.outcome]
        return f"{word}: {self.reason}" if self.reason else word


def classify(operation: str, state: str, response: dict | None) -> Verdict:
    """The outcome of one station's part: its result ``state`` (TaskState) and the response
    payload (OCPP-J 1.6 JSON, parsed)."""
    if state in _WAITING:
        return Verdict(TaskOutcome.pending)
    if state == TaskState.timed_out:
        return Verdict(TaskOutcome.timed_out)
    if state != TaskState.answered:
        return Verdict(TaskOutcome.failed)
    if not isinstance(response, dict):
        return Verdict(TaskOutcome.failed, "no usable answer")
    accepted, value = ACCEPTANCE.get(operation, Acceptance()).accepts(response)
    if accepted:
        return Verdict(TaskOutcome.accepted)
    return Verdict(TaskOutcome.refused, "no status" if value is None else str(value))


def summary(outcomes: Iterable[TaskOutcome]) -> dict[str, int]:
    """How many stations had each outcome, in a fixed order (accepted first), none omitted
    that occurred."""
    counts = Counter(outcomes)
    return {str(o): counts[o] for o in _ORDER if counts[o]}


def summary_text(counts: dict[str, int]) -> str:
    """``2 accepted, 1 refused, 1 timed out`` (``summary``'s counts); empty: no stations."""
    return ", ".join(f"{n} {_WORDS[TaskOutcome(o)]}" for o, n in counts.items())


def overall(counts: dict[str, int]) -> str | None:
    """The task's colour: an outcome every station shares, ``pending`` while any waits,
    ``mixed`` when some accepted and some did not; None without stations."""
    if not counts:
        return None
    if TaskOutcome.pending in counts:
        return TaskOutcome.pending.value
    if len(counts) == 1:
        return next(iter(counts))
    if TaskOutcome.accepted in counts:
        return "mixed"
    # no station accepted: the failure that needs looking at first
    return next(o.value for o in (TaskOutcome.failed, TaskOutcome.timed_out, TaskOutcome.refused)
                if o in counts)
