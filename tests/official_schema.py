"""Validate message bodies against the XML Schema embedded in an official OCPP WSDL."""
from __future__ import annotations

import copy
from functools import cache

from lxml import etree

from conftest import OFFICIAL_WSDL

_FILES = {
    ("CentralSystemService", "1.6"): "1.6/OCPP_CentralSystemService_1.6.wsdl",
    ("ChargePointService", "1.6"): "1.6/OCPP_ChargePointService_1.6.wsdl",
    ("CentralSystemService", "1.5"): "1.5/ocpp_centralsystemservice_1.5_final.wsdl",
    ("ChargePointService", "1.5"): "1.5/ocpp_chargepointservice_1.5_final.wsdl",
}
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def official_wsdl(service: str, version: str):
    return OFFICIAL_WSDL / _FILES[(service, version)]


@cache
def official_schema(service: str, version: str) -> etree.XMLSchema:
    wsdl = etree.parse(str(official_wsdl(service, version)), _PARSER)
    schema = wsdl.find(".//{http://www.w3.org/2001/XMLSchema}schema")
    # Re-root it with every namespace in scope: type="tns:..." values are QNames whose
    # prefixes are declared on wsdl:definitions, which lxml would not carry over.
    standalone = etree.Element(schema.tag, attrib=dict(schema.attrib), nsmap=schema.nsmap)
    standalone.extend(copy.deepcopy(child) for child in schema)
    return etree.XMLSchema(standalone)


def schema_errors(element: etree._Element, service: str, version: str) -> list[str]:
    """Empty when ``element`` (a body child) is valid against the official schema."""
    schema = official_schema(service, version)
    document = etree.fromstring(etree.tostring(element))
    if schema.validate(document):
        return []
    return [str(error) for error in schema.error_log]
