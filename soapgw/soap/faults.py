"""SOAP Faults carrying OCPP error codes, in SOAP 1.2 (Code/Subcode) or SOAP 1.1 (faultcode)."""
from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from soapgw.core.errors import ErrorCode
from soapgw.soap.addressing import FAULT_ACTION, reply_headers
from soapgw.soap.envelope import SOAP11, SOAP12, build_envelope

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


@dataclass
class SoapFault:
    """A fault to send: an OCPP code (or a SOAP-level code such as MustUnderstand) and a reason."""

    reason: str
    code: ErrorCode | None = None  # None: a SOAP-level fault (see soap_code)
    soap_code: str | None = None  # MustUnderstand | VersionMismatch | Sender | Receiver
    ocpp_namespace: str | None = None  # namespace of the subcode QName

    @property
    def senders_fault(self) -> bool:
        if self.code is not None:
            return self.code.is_senders_fault
        return self.soap_code == "Sender"

    def http_status(self, soap_version: str) -> int:
        # SOAP 1.2 HTTP binding: Sender faults are 400, the rest (MustUnderstand,
        # VersionMismatch, Receiver) 500; the SOAP 1.1 binding answers every fault with 500.
        return 400 if soap_version == "1.2" and self.senders_fault else 500


def fault_element(fault: SoapFault, soap_version: str) -> etree._Element:
    ocpp_ns = fault.ocpp_namespace or "urn://Ocpp/Cs/2015/10/"
    if soap_version == "1.2":
        element = etree.Element(f"{{{SOAP12}}}Fault", nsmap={"s": SOAP12})
        code = etree.SubElement(element, f"{{{SOAP12}}}Code")
        main = fault.soap_code or ("Sender" if fault.senders_fault else "Receiver")
        etree.SubElement(code, f"{{{SOAP12}}}Value").text = f"s:{main}"
        if fault.code is not None:
            subcode = etree.SubElement(code, f"{{{SOAP12}}}Subcode")
            value = etree.SubElement(subcode, f"{{{SOAP12}}}Value", nsmap={"ocpp": ocpp_ns})
            value.text = f"ocpp:{fault.code.value}"
        reason = etree.SubElement(element, f"{{{SOAP12}}}Reason")
        text = etree.SubElement(reason, f"{{{SOAP12}}}Text")
        text.set(XML_LANG, "en")
        text.text = fault.reason
        return element
    element = etree.Element(f"{{{SOAP11}}}Fault", nsmap={"s": SOAP11})
    main = fault.soap_code or ("Client" if fault.senders_fault else "Server")
    main = {"Sender": "Client", "Receiver": "Server"}.get(main, main)
    # SOAP 1.1 refines codes with dots: s:Client.FormationViolation.
    suffix = f".{fault.code.value}" if fault.code is not None else ""
    etree.SubElement(element, "faultcode").text = f"s:{main}{suffix}"
    etree.SubElement(element, "faultstring").text = fault.reason
    return element


def fault_envelope(fault: SoapFault, soap_version: str, relates_to: str | None,
                   to: str | None = None) -> bytes:
    """A fault reply; ``to``: the request's ReplyTo (None: the anonymous URI)."""
    headers = reply_headers(FAULT_ACTION, relates_to, to)
    return build_envelope(soap_version, headers, fault_element(fault, soap_version))
