"""spyne services built from OCPP service definitions, run on an envelope we parsed ourselves.

spyne does the (de)serialisation and the dispatch to the service method; everything around it
(safe parsing, size limits, WS-Addressing, faults, journal) is ours, because spyne's WSGI
layer answers schema errors with bare 500s and knows no WS-Addressing.
"""
from __future__ import annotations

from typing import Protocol

from lxml import etree
from spyne import BODY_STYLE_BARE, Application, ServiceBase, rpc
from spyne.model.fault import Fault
from spyne.protocol.soap import Soap11, Soap12
from spyne.server import ServerBase
from spyne import MethodContext


from soapgw.core.errors import ErrorCode, OcppError
from soapgw.soap.envelope import Envelope
from soapgw.soap.schema.base import Operation, ServiceDefinition


class Invocation(Protocol):
    """What a service method hands its work to (``ctx.udc``): one per request."""

    error: Exception | None

    def invoke(self, operation: Operation, request): ...


class OcppApplication(Application):
    def call_wrapper(self, ctx):
        # Keep the handler's exception as raised (an OcppError must keep its code); spyne
        # would log it and flatten it into a generic Server fault.
        try:
            return super().call_wrapper(ctx)
        except Exception as exc:  # noqa: BLE001  (re-raised by SpyneRunner.run)
            ctx.udc.error = exc
            return None


class _MemoisedAttributes:
    """spyne's ``get_cls_attrs`` logs a debug line and looks its cache up in a
    WeakKeyDictionary on every call: some 130 calls for one MeterValues, a third of spyne's
    deserialisation. Our spyne types live as long as the process: a plain dict will do."""

    _LIMIT = 10_000  # a bound, should anything ever make types per request

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._memoised_attrs = {}

    def get_cls_attrs(self, cls):
        attrs = self._memoised_attrs.get(cls)
        if attrs is None:
            if len(self._memoised_attrs) >= self._LIMIT:
                self._memoised_attrs.clear()
            attrs = self._memoised_attrs[cls] = super().get_cls_attrs(cls)
        return attrs


class _Soap12(_MemoisedAttributes, Soap12):
    pass


class _Soap11(_MemoisedAttributes, Soap11):
    pass


def _method(service: ServiceDefinition, operation: Operation):
    options = dict(_body_style="bare", _in_message_name=operation.request_element,
                   _out_message_name=operation.response_element, _in_header=(service.header,),
                   _returns=operation.response, _operation_name=operation.name)
    if operation.request._type_info:
        def method(ctx, request):
            return ctx.udc.invoke(operation, request)
        params = (operation.request,)
    else:
        def method(ctx):  # spyne declares an empty request (Heartbeat) as no parameter
            return ctx.udc.invoke(operation, None)
        params = ()
    method.__name__ = method.__qualname__ = operation.name  # spyne keys methods by name
    return rpc(*params, **options)(method)


def service_class(service: ServiceDefinition) -> type[ServiceBase]:
    """A spyne ServiceBase with one @rpc method per operation of ``service``."""
    methods = {operation.name: _method(service, operation) for operation in service.operations}
    name = f"{service.name}{service.ocpp_version.replace('.', '')}"
    return type(name, (ServiceBase,), methods)


class SpyneRunner:
    """Deserialise, dispatch and serialise one OCPP service with spyne, in SOAP 1.1 or 1.2."""

    def __init__(self, service: ServiceDefinition):
        self.service = service
        services = [service_class(service)]
        self._servers = {
            version: ServerBase(OcppApplication(services, tns=service.namespace,
                                                name=service.name, in_protocol=protocol(),
                                                out_protocol=protocol()))
            for version, protocol in (("1.2", _Soap12), ("1.1", _Soap11))}

    def run(self, envelope: Envelope, udc: Invocation) -> etree._Element:
        """Run the request in ``envelope``; returns the response body element."""
        return self.complete(self.prepare(envelope), udc)

    def prepare(self, envelope: Envelope) -> MethodContext:
        """Deserialise the request (no side effects: the inbound endpoint does this before
        it opens its database transaction, to hold the write lock for less time)."""
        server = self._servers[envelope.soap_version]
        app = server.app
        ctx = MethodContext(server, MethodContext.SERVER)
        # What spyne's decompose_incoming_envelope() would find, from our own parse: it looks
        # Header and Body up with two namespaced XPath queries, compiled on every call
        # (about 12% of a Heartbeat's CPU under gunicorn).
        ctx.in_document = envelope.root
        ctx.in_header_doc = envelope.headers or None
        ctx.in_body_doc = envelope.body
        ctx.method_request_string = envelope.body.tag
        first = ctx
        try:
            app.in_protocol.validate_body(ctx, app.in_protocol.REQUEST)
            (ctx,) = app.in_protocol.generate_method_contexts(ctx)
            app.in_protocol.deserialize(ctx, app.in_protocol.REQUEST)
        except Fault as fault:
            release(ctx, first)
            raise OcppError(ErrorCode.FORMATION_VIOLATION,
                            f"cannot read the request: {fault.faultstring}") from None
        if ctx.in_error is not None:
            release(ctx, first)
            raise OcppError(ErrorCode.FORMATION_VIOLATION,
                            f"cannot read the request: {ctx.in_error.faultstring}")
        if first is not ctx:  # spyne works on a copy; the original is cut now (see release)
            vars(first).clear()
        return ctx

    @staticmethod
    def request_of(ctx: MethodContext):
        """The deserialised request object of a prepared context (None for an empty request
        such as Heartbeat's)."""
        # before process_request() wraps it, a bare method's in_object is the request itself
        return ctx.in_object if ctx.descriptor.body_style is BODY_STYLE_BARE else None

    def complete(self, ctx: MethodContext, udc: Invocation) -> etree._Element:
        """Dispatch to the service method (which calls ``udc.invoke``) and serialise."""
        app = ctx.app
        ctx.udc = udc
        udc.error = None
        try:
            app.process_request(ctx)
            if udc.error is not None:
                # handed over, not kept: the Invocation holding its own traceback (whose
                # frames hold the Invocation) would be one more reference cycle
                error, udc.error = udc.error, None
                try:
                    raise error
                finally:
                    del error
            if ctx.out_error is not None:
                raise OcppError(ErrorCode.INTERNAL_ERROR, str(ctx.out_error.faultstring))
            app.out_protocol.serialize(ctx, app.out_protocol.RESPONSE)
            body = ctx.out_document.find(f"{{{app.out_protocol.ns_soap_env}}}Body")
            return body[0]  # keeps its own lxml document alive
        finally:
            release(ctx)


def release(*contexts: MethodContext) -> None:
    """Cut the reference cycles of spyne's per-request contexts (parent links, and closures
    over themselves in their sub-context defaultdicts).

    Left alone, each request leaves about 60 objects (the contexts, the lxml proxies, our
    Invocation and its database Connection) that only the cyclic garbage collector frees: in
    a busy worker that is a 30-60 ms pause every second or so, which was the p99 latency of
    the HTTP benchmark. Cut, reference counting frees them at once.
    """
    for ctx in contexts:
        parts = vars(ctx)
        for name in ("transport", "inprot_ctx", "outprot_ctx", "protocol", "event", "aux"):
            part = parts.get(name)
            if part is not None and hasattr(part, "__dict__"):
                vars(part).clear()  # each is this request's own object (spyne makes them)
        parts.clear()
