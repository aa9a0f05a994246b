"""What the CentralSystemService and ChargePointService messages share (see core/messages.py):
idTagInfo, and DataTransfer, which either side may send."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from soapgw.core.enums import AuthorizationStatus, DataTransferStatus


def required_list():
    """A list field the OCPP 1.6 JSON schema requires: encoded even when empty."""
    return field(default_factory=list, metadata={"required": True})


@dataclass
class IdTagInfo:
    status: AuthorizationStatus
    expiry_date: datetime | None = None
    parent_id_tag: str | None = None


@dataclass
class DataTransferRequest:
    vendor_id: str
    message_id: str | None = None
    data: str | None = None


@dataclass
class DataTransferResponse:
    status: DataTransferStatus
    data: str | None = None
