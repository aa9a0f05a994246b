"""Building blocks for OCPP service definitions on top of spyne's type system.

A definition module reads like the WSDL it stands for::

    s = SchemaBuilder("urn://Ocpp/Cs/2015/10/")
    IdToken = s.string("IdToken", 20)
    AuthorizationStatus = s.enum("AuthorizationStatus", "Accepted", "Blocked", ...)
    IdTagInfo = s.complex("IdTagInfo", [
        ("status", required(AuthorizationStatus)),
        ("expiryDate", optional(DateTime)),
    ])

Field order is the xs:sequence order. ``required``/``optional``/``repeated`` set minOccurs and
maxOccurs. Named simple types keep their name (spyne's ``__orig__``) so the WSDL generator can
emit ``tns:IdToken`` just like the official WSDLs do.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from spyne import ComplexModel, Unicode, XmlAttribute, XmlData

# xs:int, xs:dateTime, xs:boolean, xs:decimal, xs:anyURI, xs:string as spyne primitives.
from spyne import AnyUri, Boolean, DateTime, Decimal, Integer32 as Int  # noqa: F401  (re-exported)


def required(spyne_type):
    return spyne_type.customize(min_occurs=1, max_occurs=1)


def optional(spyne_type):
    return spyne_type.customize(min_occurs=0, max_occurs=1)


def repeated(spyne_type, min_occurs: int = 0):
    return spyne_type.customize(min_occurs=min_occurs, max_occurs="unbounded")


def named(spyne_type):
    """The named type behind a customised copy (``IdToken`` behind ``required(IdToken)``)."""
    return getattr(spyne_type, "__orig__", None) or spyne_type


class SchemaBuilder:
    """Creates spyne types in one target namespace."""

    def __init__(self, namespace: str):
        self.namespace = namespace

    def string(self, name: str, max_len: int | None = None):
        """A named xs:string restriction (maxLength)."""
        attrs = {"max_len": max_len} if max_len is not None else {}
        return type(name, (Unicode,), {
            "__namespace__": self.namespace, "__type_name__": name,
            "Attributes": type("Attributes", (Unicode.Attributes,), attrs)})

    def enum(self, name: str, *values: str):
        """A named xs:string enumeration; values keep their declared order in ``ocpp_values``.

        spyne does not enforce the values without a validator: the lenient reader checks them.
        """
        cls = type(name, (Unicode,), {
            "__namespace__": self.namespace, "__type_name__": name,
            "Attributes": type("Attributes", (Unicode.Attributes,), {"values": set(values)})})
        cls.ocpp_values = tuple(values)
        return cls

    def complex(self, name: str, fields: list[tuple[str, type]]):
        """A named complexType whose xs:sequence is ``fields`` in order."""
        return type(name, (ComplexModel,), {
            "__namespace__": self.namespace, "__type_name__": name, "_type_info": list(fields)})

    def simple_content(self, name: str, base, attributes: list[tuple[str, type]],
                       anonymous: bool = False):
        """A complexType with simpleContent: text of type ``base`` (field ``value``) plus
        optional XML attributes, like the OCPP 1.5 ``MeterValue/value`` element.

        ``anonymous`` types are declared inline in their element, as the 1.5 WSDL does;
        ``name`` then only names the Python class.
        """
        cls = type(name, (ComplexModel,), {
            "__namespace__": self.namespace, "__type_name__": name,
            "_type_info": [("value", XmlData(base))]
                          + [(attr, XmlAttribute(kind)) for attr, kind in attributes]})
        cls.ocpp_anonymous = anonymous
        return cls


def body_element_name(operation: str, suffix: str) -> str:
    """``BootNotification`` -> ``bootNotificationRequest`` (the lowerCamelCase wrapper element)."""
    return operation[0].lower() + operation[1:] + suffix


@dataclass(frozen=True)
class Operation:
    """One OCPP operation of a service: its request and response complexTypes.

    ``essential`` names the request fields (dotted paths for nested ones) without which the
    receiver cannot act; a missing or unreadable essential field is a Fault, any other
    breach of the schema is tolerated and recorded as a quirk.
    """

    name: str
    request: type
    response: type
    essential: tuple[str, ...] = ()

    @property
    def request_element(self) -> str:
        return body_element_name(self.name, "Request")

    @property
    def response_element(self) -> str:
        return body_element_name(self.name, "Response")

    @property
    def input_action(self) -> str:
        return f"/{self.name}"

    @property
    def output_action(self) -> str:
        return f"/{self.name}Response"


@dataclass(frozen=True)
class ServiceDefinition:
    """An OCPP SOAP service: CentralSystemService or ChargePointService, in one version."""

    name: str  # CentralSystemService | ChargePointService
    ocpp_version: str  # "1.5" | "1.6"
    namespace: str
    header: type  # the chargeBoxIdentity element type
    operations: tuple[Operation, ...]
    by_element: dict[str, Operation] = field(init=False, repr=False, compare=False)
    by_name: dict[str, Operation] = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "by_element", {op.request_element: op for op in self.operations})
        object.__setattr__(self, "by_name", {op.name: op for op in self.operations})


def charge_box_identity(namespace: str):
    """The OCPP SOAP header element ``chargeBoxIdentity`` (xs:string) in ``namespace``."""
    return type("chargeBoxIdentity", (Unicode,), {
        "__namespace__": namespace, "__type_name__": "chargeBoxIdentity"})
