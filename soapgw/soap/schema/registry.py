"""Every OCPP SOAP service definition soapgw has, for the WSDL export and the endpoints."""
from __future__ import annotations

from soapgw.soap.schema import cp15, cp16, cs15, cs16
from soapgw.soap.schema.base import ServiceDefinition

SERVICES: tuple[ServiceDefinition, ...] = (cs15.SERVICE, cs16.SERVICE, cp15.SERVICE,
                                            cp16.SERVICE)


def find(name: str, ocpp_version: str) -> ServiceDefinition:
    for service in SERVICES:
        if service.name == name and service.ocpp_version == ocpp_version:
            return service
    raise KeyError(f"no {name} definition for OCPP {ocpp_version}")
