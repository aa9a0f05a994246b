"""Turning what can go wrong on the wire into distinct, readable task errors."""
from __future__ import annotations

import socket
import ssl

import requests
from lxml import etree

from soapgw.core.commands.errors import ErrorKind, TaskError
from soapgw.soap.envelope import SOAP11, SOAP12


def _chain(exc: BaseException):
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__ or (exc.args[0] if exc.args and isinstance(
            exc.args[0], BaseException) else None)


def from_requests(exc: requests.RequestException, address: str, connect_timeout: float,
                  operation_timeout: float) -> TaskError:
    """A requests exception as a task error: timeout, refused, TLS, unreachable."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return TaskError(ErrorKind.TIMEOUT, f"no connection to {address} within "
                                            f"{connect_timeout:g} s (connect timeout)")
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return TaskError(ErrorKind.TIMEOUT, f"the station at {address} did not answer within "
                                            f"{operation_timeout:g} s (operation timeout)")
    causes = list(_chain(exc))
    tls = next((e for e in causes if isinstance(e, ssl.SSLError)), None)
    if tls is not None or isinstance(exc, requests.exceptions.SSLError):
        # (a refused client certificate may only show up as an alert on the first read)
        return TaskError(ErrorKind.TLS_ERROR, f"TLS with {address} failed: {tls or exc}")
    if any(isinstance(e, ConnectionRefusedError) for e in causes):
        return TaskError(ErrorKind.CONNECTION_REFUSED,
                         f"connection to {address} refused (nothing listens there)")
    if any(isinstance(e, socket.gaierror) for e in causes) or "NameResolution" in repr(exc):
        return TaskError(ErrorKind.UNREACHABLE, f"cannot resolve the host of {address}")
    if any(isinstance(e, (TimeoutError, socket.timeout)) for e in causes):
        return TaskError(ErrorKind.TIMEOUT, f"the station at {address} did not answer within "
                                            f"{operation_timeout:g} s (operation timeout)")
    reason = next((str(e) for e in reversed(causes) if str(e)), type(exc).__name__)
    return TaskError(ErrorKind.UNREACHABLE, f"cannot reach {address}: {reason}")


def _local(text: str | None) -> str | None:
    """``ocpp:SecurityError`` -> ``SecurityError`` (a QName in text; any prefix)."""
    text = (text or "").strip()
    return text.rsplit(":", 1)[-1] if text else None


def fault_error(fault: etree._Element) -> TaskError:
    """A SOAP 1.2 or 1.1 Fault element as a task error with the OCPP subcode."""
    if etree.QName(fault).namespace == SOAP12:
        ns = {"s": SOAP12}
        code = _local(fault.findtext("s:Code/s:Value", namespaces=ns))
        subcode = _local(fault.findtext("s:Code/s:Subcode/s:Value", namespaces=ns))
        reason = fault.findtext("s:Reason/s:Text", namespaces=ns)
    else:
        # SOAP 1.1: faultcode "s:Client.FormationViolation", faultstring
        raw = _local(fault.findtext("faultcode") or fault.findtext(f"{{{SOAP11}}}faultcode"))
        code, _, subcode = (raw or "").partition(".")
        subcode = subcode or None
        reason = fault.findtext("faultstring") or fault.findtext(f"{{{SOAP11}}}faultstring")
    reason = " ".join((reason or "no reason given").split())
    label = subcode or code or "Fault"
    return TaskError(ErrorKind.FAULT, f"the station answered a SOAP Fault: {label}: {reason}",
                     fault_code=subcode or code)


def http_error(status: int, address: str, content: bytes) -> TaskError:
    snippet = " ".join(content[:200].decode("utf-8", "replace").split())
    detail = f": {snippet}" if snippet else ""
    return TaskError(ErrorKind.HTTP_ERROR,
                     f"the station at {address} answered HTTP {status} without a SOAP "
                     f"answer{detail}")
