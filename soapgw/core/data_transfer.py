"""DataTransfer from stations: answered by vendor handlers registered by vendorId.

    registry = DataTransferRegistry()

    @registry.handler("com.example", message_id="Ping")
    def ping(station_id: str, request: DataTransferRequest) -> DataTransferResponse:
        return DataTransferResponse(status="Accepted", data="pong")

A vendorId with no handler is answered UnknownVendorId; a known vendor with an unknown
messageId UnknownMessageId. A handler registered with ``message_id=None`` takes every messageId.
"""
from __future__ import annotations

from collections.abc import Callable

from soapgw.core.messages import DataTransferRequest, DataTransferResponse

Handler = Callable[[str, DataTransferRequest], DataTransferResponse]


class DataTransferRegistry:
    def __init__(self) -> None:
        self._handlers: dict[tuple[str, str | None], Handler] = {}

    def handler(self, vendor_id: str, message_id: str | None = None):
        def register(function: Handler) -> Handler:
            self._handlers[(vendor_id, message_id)] = function
            return function
        return register

    def answer(self, station_id: str, request: DataTransferRequest) -> DataTransferResponse:
        handler = (self._handlers.get((request.vendor_id, request.message_id))
                   or self._handlers.get((request.vendor_id, None)))
        if handler is not None:
            return handler(station_id, request)
        if any(vendor == request.vendor_id for vendor, _ in self._handlers):
            return DataTransferResponse(status="UnknownMessageId")
        return DataTransferResponse(status="UnknownVendorId")
