"""The OCPP versions the inbound endpoint serves, found by the namespace of the Body child."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from types import ModuleType

from soapgw.soap.mapping import cs15 as cs15_mapping
from soapgw.soap.mapping import cs16 as cs16_mapping
from soapgw.soap.schema import cs15, cs16
from soapgw.soap.schema.base import ServiceDefinition
from soapgw.soap.schema.registry import find
from soapgw.soap.spyne_service import SpyneRunner


@dataclass(frozen=True)
class InboundVersion:
    service: ServiceDefinition
    mapping: ModuleType  # request_to_core(operation, request), response_from_core(...)

    @property
    def runner(self) -> SpyneRunner:
        """spyne's own (de)serialisation of this version: no longer on the message path
        (the reader and soap.reply_writer are), the reference tests/test_direct_codec.py
        compares them with; made on first use, not in every worker."""
        return _runner(self.service)


@cache
def _runner(service: ServiceDefinition) -> SpyneRunner:
    return SpyneRunner(service)


_VERSIONS = (InboundVersion(cs15.SERVICE, cs15_mapping),
             InboundVersion(cs16.SERVICE, cs16_mapping))
INBOUND: dict[str, InboundVersion] = {v.service.namespace: v for v in _VERSIONS}
BY_OCPP_VERSION: dict[str, InboundVersion] = {v.service.ocpp_version: v for v in _VERSIONS}

# Known OCPP namespaces we do not serve: answered NotSupported rather than NotImplemented.
UNSUPPORTED = {"urn://Ocpp/Cs/2010/08/": "OCPP 1.2"}

# A CentralSystemService request sent in the ChargePointService namespace of the same version
# (a real 1.5 station does so for diagnosticsStatusNotificationRequest): its meaning is clear.
_BY_CHARGE_POINT_NAMESPACE = {find("ChargePointService", v.service.ocpp_version).namespace: v
                              for v in _VERSIONS}


def by_charge_point_namespace(namespace: str | None, element: str) -> InboundVersion | None:
    """The version whose CentralSystemService has request ``element``, when ``namespace`` is
    that version's ChargePointService namespace (None otherwise)."""
    version = _BY_CHARGE_POINT_NAMESPACE.get(namespace)
    if version is not None and element in version.service.by_element:
        return version
    return None
