"""WSDL 1.1 documents for OCPP SOAP services, shaped like the official OCA WSDLs.

spyne's own WSDL is not usable for OCPP (undeclared header element, wrong soapAction, no
WS-Addressing policy, different names), so we generate one from a
:class:`~soapgw.soap.schema.base.ServiceDefinition`: same names, same SOAP 1.2 binding, same
schema types. Output is deterministic so the committed files under ``wsdl/`` can be checked.
"""
from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path

from lxml import etree
from spyne import ComplexModelBase, XmlAttribute, XmlData

from soapgw.soap.schema.base import ServiceDefinition, named

XS = "http://www.w3.org/2001/XMLSchema"
WSDL = "http://schemas.xmlsoap.org/wsdl/"
SOAP12 = "http://schemas.xmlsoap.org/wsdl/soap12/"
WSAW = "http://www.w3.org/2006/05/addressing/wsdl"
WSP = "http://schemas.xmlsoap.org/ws/2004/09/policy"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
HTTP_TRANSPORT = "http://schemas.xmlsoap.org/soap/http"
POLICY_ID = "ServicePolicy"

# spyne facet attribute -> XSD facet element, in the order they are written.
FACETS = (("min_len", "minLength"), ("max_len", "maxLength"), ("pattern", "pattern"),
          ("total_digits", "totalDigits"), ("fraction_digits", "fractionDigits"),
          ("ge", "minInclusive"), ("gt", "minExclusive"), ("le", "maxInclusive"),
          ("lt", "maxExclusive"))


def _s(tag: str) -> str:
    return f"{{{XS}}}{tag}"


def _w(tag: str) -> str:
    return f"{{{WSDL}}}{tag}"


def _soap(tag: str) -> str:
    return f"{{{SOAP12}}}{tag}"


def _occurs(value) -> str:
    # spyne stores "unbounded" as Decimal('Infinity')
    if isinstance(value, (float, Decimal)) and value == Decimal("Infinity"):
        return "unbounded"
    if isinstance(value, str):
        return value
    return str(int(value))


def _is_xsd_primitive(t) -> bool:
    return t.get_namespace() == XS


def _primitive_base(t):
    """The XSD built-in a named simple type restricts (``Unicode`` behind ``IdToken``)."""
    for klass in t.__mro__[1:]:
        if hasattr(klass, "get_namespace") and _is_xsd_primitive(klass) \
                and isinstance(klass.get_type_name(), str):
            return klass
    raise ValueError(f"{t.__name__}: no XML Schema primitive base")


def _facets(t, base) -> list[tuple[str, str]]:
    """Facets of ``t`` that differ from ``base`` (enumerations excluded)."""
    found = []
    for attr, facet in FACETS:
        mine, theirs = getattr(t.Attributes, attr, None), getattr(base.Attributes, attr, None)
        if mine != theirs and mine is not None:
            found.append((facet, str(mine)))
    return found


def _enum_values(t) -> tuple[str, ...]:
    # ocpp_values keeps the declared order; spyne's Attributes.values is an unordered set
    values = getattr(t, "ocpp_values", None)
    return tuple(values) if values is not None else tuple(sorted(t.Attributes.values or ()))


class _Schema:
    """Collects and writes the named types reachable from a service's operations."""

    def __init__(self, namespace: str):
        self.namespace = namespace
        self.ordered: list[type] = []  # named types, dependencies first
        self.seen: set[type] = set()

    # --- discovery ------------------------------------------------------------------------
    def collect(self, t) -> None:
        t = named(t)
        if t in self.seen or _is_xsd_primitive(t):
            return
        if t.get_namespace() != self.namespace:
            raise ValueError(f"type {t.get_type_name()} is in namespace {t.get_namespace()!r}, "
                             f"not the service namespace {self.namespace!r}")
        self.seen.add(t)
        if issubclass(t, ComplexModelBase):
            for _, field in t._type_info.items():
                self.collect(field.type if issubclass(field, (XmlData, XmlAttribute)) else field)
            if getattr(t, "ocpp_anonymous", False):
                return  # declared inline in its element, never globally
        self.ordered.append(t)

    # --- references -----------------------------------------------------------------------
    def qname(self, t) -> str:
        n = named(t)
        if _is_xsd_primitive(n):
            # a customised primitive (Unicode(20)) would be an anonymous restriction,
            # which the OCPP WSDLs never use: insist on a named type instead
            if _facets(t, n) or t.Attributes.values != n.Attributes.values:
                raise ValueError(f"anonymous restriction of xs:{n.get_type_name()}: "
                                 "declare a named type with SchemaBuilder")
            return f"s:{n.get_type_name()}"
        return f"tns:{n.get_type_name()}"

    # --- writing --------------------------------------------------------------------------
    def write(self, schema: etree._Element) -> None:
        for t in self.ordered:
            if issubclass(t, ComplexModelBase):
                self._complex(etree.SubElement(schema, _s("complexType"),
                                               name=t.get_type_name()), t)
            else:
                self._simple(etree.SubElement(schema, _s("simpleType"),
                                              name=t.get_type_name()), t)

    def _simple(self, parent: etree._Element, t) -> None:
        base = _primitive_base(t)
        restriction = etree.SubElement(parent, _s("restriction"),
                                       base=f"s:{base.get_type_name()}")
        for facet, value in _facets(t, base):
            etree.SubElement(restriction, _s(facet), value=value)
        for value in _enum_values(t):
            etree.SubElement(restriction, _s("enumeration"), value=value)

    def _complex(self, parent: etree._Element, t) -> None:
        fields = list(t._type_info.items())
        data = [f for _, f in fields if issubclass(f, XmlData)]
        attributes = [(k, f) for k, f in fields if issubclass(f, XmlAttribute)]
        elements = [(k, f) for k, f in fields if not issubclass(f, (XmlData, XmlAttribute))]
        if data:  # simpleContent: text of the XmlData type plus attributes
            if elements:
                raise ValueError(f"{t.get_type_name()}: simpleContent cannot have elements")
            ext = etree.SubElement(etree.SubElement(parent, _s("simpleContent")),
                                   _s("extension"), base=self.qname(data[0].type))
            self._attributes(ext, attributes)
            return
        if elements:  # an empty type (HeartbeatRequest) has no xs:sequence at all
            seq = etree.SubElement(parent, _s("sequence"))
            for key, field in elements:
                self._element(seq, field.Attributes.sub_name or key, field)
        self._attributes(parent, attributes)

    def _element(self, seq: etree._Element, name: str, field) -> None:
        n = named(field)
        el = etree.SubElement(seq, _s("element"), name=name)
        if getattr(n, "ocpp_anonymous", False):
            self._complex(etree.SubElement(el, _s("complexType")), n)
        else:
            el.set("type", self.qname(field))
        el.set("minOccurs", _occurs(field.Attributes.min_occurs))
        el.set("maxOccurs", _occurs(field.Attributes.max_occurs))

    def _attributes(self, parent: etree._Element, attributes) -> None:
        for key, attr in attributes:
            etree.SubElement(parent, _s("attribute"), name=attr.Attributes.sub_name or key,
                             type=self.qname(attr.type), use=attr._use or "optional")


def generate_wsdl(service: ServiceDefinition, address: str) -> bytes:
    """The WSDL of ``service`` with its SOAP 1.2 port at ``address``, pretty-printed UTF-8."""
    name = service.name
    root = etree.Element(_w("definitions"), nsmap={
        "wsdl": WSDL, "s": XS, "soap12": SOAP12, "tns": service.namespace, "wsaw": WSAW,
        "wsp": WSP, "wsu": WSU}, targetNamespace=service.namespace)

    # WS-Addressing is mandatory, as in the official files
    policy = etree.SubElement(root, f"{{{WSP}}}Policy", {f"{{{WSU}}}Id": POLICY_ID})
    etree.SubElement(etree.SubElement(etree.SubElement(policy, f"{{{WSP}}}ExactlyOne"),
                                      f"{{{WSP}}}All"), f"{{{WSAW}}}UsingAddressing")

    schema = etree.SubElement(etree.SubElement(root, _w("types")), _s("schema"),
                              targetNamespace=service.namespace, elementFormDefault="qualified")
    types = _Schema(service.namespace)
    for op in service.operations:
        types.collect(op.request)
        types.collect(op.response)
    types.write(schema)
    etree.SubElement(schema, _s("element"), name=service.header.get_type_name(), type="s:string")
    for op in service.operations:
        etree.SubElement(schema, _s("element"), name=op.request_element,
                         type=types.qname(op.request))
        etree.SubElement(schema, _s("element"), name=op.response_element,
                         type=types.qname(op.response))

    header = etree.SubElement(root, _w("message"), name="Header")
    etree.SubElement(header, _w("part"), name="ChargeBoxIdentity",
                     element=f"tns:{service.header.get_type_name()}")
    for op in service.operations:
        for suffix, element in (("Input", op.request_element), ("Output", op.response_element)):
            message = etree.SubElement(root, _w("message"), name=f"{op.name}{suffix}")
            etree.SubElement(message, _w("part"), name="parameters", element=f"tns:{element}")

    port_type = etree.SubElement(root, _w("portType"), name=name)
    for op in service.operations:
        operation = etree.SubElement(port_type, _w("operation"), name=op.name)
        etree.SubElement(operation, _w("input"), {"message": f"tns:{op.name}Input",
                                                  f"{{{WSAW}}}Action": op.input_action})
        etree.SubElement(operation, _w("output"), {"message": f"tns:{op.name}Output",
                                                   f"{{{WSAW}}}Action": op.output_action})

    binding = etree.SubElement(root, _w("binding"), name=f"{name}Soap", type=f"tns:{name}")
    etree.SubElement(binding, _soap("binding"), transport=HTTP_TRANSPORT)
    etree.SubElement(binding, f"{{{WSP}}}PolicyReference", URI=f"#{POLICY_ID}")
    for op in service.operations:
        operation = etree.SubElement(binding, _w("operation"), name=op.name)
        etree.SubElement(operation, _soap("operation"), soapAction=op.input_action,
                         style="document")
        bound_in = etree.SubElement(operation, _w("input"))
        # the chargeBoxIdentity header is bound on inputs only, like the official WSDLs
        etree.SubElement(bound_in, _soap("header"), message="tns:Header",
                         part="ChargeBoxIdentity", use="literal")
        etree.SubElement(bound_in, _soap("body"), use="literal")
        etree.SubElement(etree.SubElement(operation, _w("output")), _soap("body"), use="literal")

    port = etree.SubElement(etree.SubElement(root, _w("service"), name=name), _w("port"),
                            name=f"{name}Soap12", binding=f"tns:{name}Soap")
    etree.SubElement(port, _soap("address"), location=address)

    root.addprevious(etree.Comment(
        f" OCPP {service.ocpp_version} {name}, generated by soapgw from its service definition."
        " Do not edit: regenerate with `make wsdl`. "))
    etree.indent(root, space="  ")
    # lxml writes the declaration with single quotes; spell it like the official files do
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + etree.tostring(
        etree.ElementTree(root), encoding="utf-8", pretty_print=True)


def wsdl_filename(service: ServiceDefinition) -> str:
    """``soapgw_centralsystemservice_1.6.wsdl`` and the like."""
    return f"soapgw_{service.name.lower()}_{service.ocpp_version}.wsdl"


def service_path(service: ServiceDefinition) -> str:
    """``/services/CentralSystemServiceOCPP16``: the version-specific endpoint path."""
    return f"/services/{service.name}OCPP{service.ocpp_version.replace('.', '')}"


def export_all(directory: Path, base_url: str = "http://localhost:8080") -> list[Path]:
    """Write one WSDL per registered service into ``directory``; returns the paths written."""
    from soapgw.soap.schema.registry import SERVICES  # late: the registry imports every definition

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for service in SERVICES:
        path = directory / wsdl_filename(service)
        path.write_bytes(generate_wsdl(service, base_url.rstrip("/") + service_path(service)))
        written.append(path)
    return written


if __name__ == "__main__":  # python -m soapgw.soap.wsdl wsdl/ [base_url]
    for written_path in export_all(Path(sys.argv[1] if len(sys.argv) > 1 else "wsdl"),
                                   *sys.argv[2:3]):
        print(written_path)
