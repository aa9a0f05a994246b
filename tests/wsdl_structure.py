"""Structural comparison of two WSDL 1.1 documents (what a SOAP stack sees, not the bytes).

``compare(reference, candidate)`` returns readable differences: target namespace; service,
port and binding names; SOAP version, transport and WS-Addressing policy of each binding; per
operation soapAction, style, wsaw:Action of input/output, header and body parts (element QNames)
and their ``use``; per global element its type; per complexType (named, or anonymous by element
path) its ordered particles (name, type, minOccurs, maxOccurs), attributes and simpleContent
base; per simpleType its base, facets and enumeration values (set and order).

Ignored: documentation/annotations, comments, whitespace, prefixes (QNames are compared by
namespace URI), unused namespace declarations and the service address.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from lxml import etree

XS = "http://www.w3.org/2001/XMLSchema"
WSDL = "http://schemas.xmlsoap.org/wsdl/"
SOAP11 = "http://schemas.xmlsoap.org/wsdl/soap/"
SOAP12 = "http://schemas.xmlsoap.org/wsdl/soap12/"
WSAW = "http://www.w3.org/2006/05/addressing/wsdl"
WSP = "http://schemas.xmlsoap.org/ws/2004/09/policy"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
NS = {"s": XS, "wsdl": WSDL, "soap": SOAP11, "soap12": SOAP12, "wsaw": WSAW, "wsp": WSP}
SOAP_VERSIONS = {SOAP11: "SOAP 1.1", SOAP12: "SOAP 1.2"}
FACETS = ("length", "minLength", "maxLength", "pattern", "totalDigits", "fractionDigits",
          "minInclusive", "minExclusive", "maxInclusive", "maxExclusive", "whiteSpace")

Facts = dict[str, Any]


def parse(path: Path | str) -> etree._Element:
    """Parse without entity expansion, network access or comments."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                             remove_comments=True, remove_pis=True, huge_tree=False)
    return etree.parse(str(path), parser).getroot()


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname


def _qname(el: etree._Element, value: str | None) -> str | None:
    """``prefix:local`` resolved in ``el``'s scope, in Clark notation ``{uri}local``."""
    if value is None:
        return None
    prefix, _, local = value.strip().rpartition(":")
    uri = el.nsmap.get(prefix or None)
    if uri is None:
        return f"{{unbound prefix {prefix}}}{local}" if prefix else local
    return f"{{{uri}}}{local}"


def _occurs(el: etree._Element, attr: str) -> str:
    return el.get(attr, "1").strip()  # XSD default for both minOccurs and maxOccurs


def _children(el: etree._Element) -> list[etree._Element]:
    """Element children that carry structure (no annotations)."""
    return [c for c in el if isinstance(c.tag, str) and c.tag != f"{{{XS}}}annotation"]


# --- schema ---------------------------------------------------------------------------------
def _complex(el: etree._Element, path: str, facts: Facts) -> None:
    particles: list[tuple] = []
    attributes: set[tuple] = set()
    base = None
    content = "empty"
    for child in _children(el):
        kind = _local(child)
        if kind in ("sequence", "choice", "all"):
            content = kind
            for p in _children(child):
                particles.append(_particle(p, path, facts))
        elif kind in ("simpleContent", "complexContent"):
            content = kind
            for derivation in _children(child):
                base = (_local(derivation), _qname(derivation, derivation.get("base")))
                for d in _children(derivation):
                    if _local(d) == "attribute":
                        attributes.add(_attribute(d))
                    elif _local(d) in ("sequence", "choice", "all"):
                        particles.extend(_particle(p, path, facts) for p in _children(d))
        elif kind == "attribute":
            attributes.add(_attribute(child))
        else:
            particles.append((f"<{kind}>", None, "", ""))
    if content in ("sequence", "choice", "all") and not particles:
        content = "empty"  # <complexType/> and an empty <sequence/> mean the same
    facts[f"complexType {path}"] = {"content": content, "particles": tuple(particles),
                                    "attributes": frozenset(attributes), "base": base}


def _particle(el: etree._Element, owner: str, facts: Facts) -> tuple:
    kind = _local(el)
    if kind != "element":  # nested groups and wildcards do not occur in OCPP: keep them visible
        return (f"<{kind}>", None, _occurs(el, "minOccurs"), _occurs(el, "maxOccurs"))
    name = el.get("name") or f"ref {_qname(el, el.get('ref'))}"
    return (name, _element_type(el, f"{owner}/{name}", facts),
            _occurs(el, "minOccurs"), _occurs(el, "maxOccurs"))


def _element_type(el: etree._Element, path: str, facts: Facts) -> str | None:
    """The element's type QName; an inline type is recorded under ``path`` instead."""
    if el.get("type"):
        return _qname(el, el.get("type"))
    for inline in _children(el):
        if _local(inline) == "complexType":
            _complex(inline, path, facts)
            return "(anonymous complexType)"
        if _local(inline) == "simpleType":
            _simple(inline, path, facts)
            return "(anonymous simpleType)"
    return None


def _attribute(el: etree._Element) -> tuple:
    return (el.get("name") or f"ref {_qname(el, el.get('ref'))}",
            _qname(el, el.get("type")), el.get("use", "optional"))


def _simple(el: etree._Element, path: str, facts: Facts) -> None:
    info: dict[str, Any] = {"variety": None, "base": None, "enumeration": (), "facets": {}}
    for child in _children(el):
        info["variety"] = _local(child)
        info["base"] = _qname(child, child.get("base") or child.get("itemType"))
        enumeration = []
        for facet in _children(child):
            if _local(facet) == "enumeration":
                enumeration.append(facet.get("value"))
            elif _local(facet) in FACETS:
                info["facets"][_local(facet)] = facet.get("value", "").strip()
        info["enumeration"] = tuple(enumeration)
    facts[f"simpleType {path}"] = info


def _schema_facts(root: etree._Element, facts: Facts) -> None:
    for schema in root.iterfind("wsdl:types/s:schema", NS):
        tns = schema.get("targetNamespace")
        facts[f"schema {tns} elementFormDefault"] = schema.get("elementFormDefault",
                                                               "unqualified")
        for child in _children(schema):
            kind, name = _local(child), child.get("name")
            key = f"{{{tns}}}{name}"
            if kind == "element":
                facts[f"element {key}"] = _element_type(child, key, facts)
            elif kind == "complexType":
                _complex(child, key, facts)
            elif kind == "simpleType":
                _simple(child, key, facts)
            else:
                facts[f"schema {tns} <{kind}> {name}"] = True


# --- WSDL -----------------------------------------------------------------------------------
def _by_name(root: etree._Element, tag: str) -> dict[str, etree._Element]:
    tns = root.get("targetNamespace")
    return {f"{{{tns}}}{el.get('name')}": el for el in root.iterfind(tag, NS)}


def _uses_addressing(root: etree._Element, binding: etree._Element) -> bool:
    """UsingAddressing in the binding itself or in a wsp:Policy it references."""
    if binding.find(".//wsaw:UsingAddressing", NS) is not None:
        return True
    for ref in binding.iterfind("wsp:PolicyReference", NS):
        uri = ref.get("URI", "")
        for policy in root.iter(f"{{{WSP}}}Policy"):
            if uri == f"#{policy.get(f'{{{WSU}}}Id')}" and \
                    policy.find(".//wsaw:UsingAddressing", NS) is not None:
                return True
    return False


def _bound_message(root: etree._Element, messages: dict, binding_io: etree._Element | None,
                   port_io: etree._Element | None) -> dict[str, Any]:
    """Header and body parts of one operation input/output, as element QNames."""
    info: dict[str, Any] = {"action": None, "headers": (), "body": (), "body use": None}
    if port_io is None:
        return info
    info["action"] = port_io.get(f"{{{WSAW}}}Action")
    message = messages.get(_qname(port_io, port_io.get("message")))
    parts = {} if message is None else {
        p.get("name"): _qname(p, p.get("element")) or f"type {_qname(p, p.get('type'))}"
        for p in message.iterfind("wsdl:part", NS)}
    headers, body_parts = [], None
    for ext in [] if binding_io is None else _children(binding_io):
        if _local(ext) == "header":
            header_msg = messages.get(_qname(ext, ext.get("message")))
            part = None if header_msg is None else header_msg.find(
                f"wsdl:part[@name='{ext.get('part')}']", NS)
            element = None if part is None else _qname(part, part.get("element"))
            headers.append((ext.get("part"), element, ext.get("use"), etree.QName(ext).namespace))
        elif _local(ext) == "body":
            info["body use"] = (ext.get("use"), etree.QName(ext).namespace)
            if ext.get("parts") is not None:
                body_parts = ext.get("parts").split()
    info["headers"] = tuple(sorted(headers, key=repr))
    info["body"] = tuple(sorted(parts[p] for p in (body_parts or parts) if p in parts))
    return info


def _wsdl_facts(root: etree._Element, facts: Facts) -> None:
    messages = _by_name(root, "wsdl:message")
    port_types = _by_name(root, "wsdl:portType")
    bindings = _by_name(root, "wsdl:binding")
    facts["services"] = frozenset(
        (service.get("name"), port.get("name"), _qname(port, port.get("binding")))
        for service in root.iterfind("wsdl:service", NS)
        for port in service.iterfind("wsdl:port", NS))
    facts["ports"] = frozenset(
        (port.get("name"), etree.QName(address).namespace)
        for port in root.iterfind("wsdl:service/wsdl:port", NS) for address in _children(port)
        if _local(address) == "address")
    operations: set[str] = set()
    for qname, binding in bindings.items():
        soap = [b for b in _children(binding) if _local(b) == "binding"]
        facts[f"binding {qname}"] = {
            "portType": _qname(binding, binding.get("type")),
            "SOAP": tuple(SOAP_VERSIONS.get(etree.QName(b).namespace, etree.QName(b).namespace)
                          for b in soap),
            "transport": tuple(b.get("transport") for b in soap),
            "style": tuple(b.get("style", "document") for b in soap),
            "UsingAddressing": _uses_addressing(root, binding)}
        port_type = port_types.get(_qname(binding, binding.get("type")))
        for op in binding.iterfind("wsdl:operation", NS):
            name = op.get("name")
            operations.add(name)
            abstract = None if port_type is None else port_type.find(
                f"wsdl:operation[@name='{name}']", NS)
            soap_op = [e for e in _children(op) if _local(e) == "operation"]
            facts[f"operation {name} soapAction"] = tuple(e.get("soapAction") for e in soap_op)
            facts[f"operation {name} style"] = tuple(e.get("style") for e in soap_op)
            for io in ("input", "output"):
                bound = _bound_message(
                    root, messages, op.find(f"wsdl:{io}", NS),
                    None if abstract is None else abstract.find(f"wsdl:{io}", NS))
                for aspect, value in bound.items():
                    facts[f"operation {name} {io} {aspect}"] = value
    facts["operations"] = frozenset(operations)


def describe(path: Path | str) -> Facts:
    """Everything ``compare`` looks at, as a flat ``{aspect: value}`` mapping."""
    root = parse(path)
    facts: Facts = {"targetNamespace": root.get("targetNamespace")}
    _wsdl_facts(root, facts)
    _schema_facts(root, facts)
    return facts


# --- comparison -----------------------------------------------------------------------------
def _show(value: Any) -> str:
    text = repr(sorted(value, key=repr) if isinstance(value, frozenset) else value)
    return text.replace(f"{{{XS}}}", "xs:")


def _diff_complex(key: str, ref: dict, got: dict) -> list[str]:
    out = []
    if ref["content"] != got["content"]:
        out.append(f"{key}: content expected {ref['content']}, got {got['content']}")
    if ref["base"] != got["base"]:
        out.append(f"{key}: derivation base expected {_show(ref['base'])}, "
                   f"got {_show(got['base'])}")
    if ref["particles"] != got["particles"]:
        ref_p, got_p = {p[0]: p for p in ref["particles"]}, {p[0]: p for p in got["particles"]}
        for name in ref_p.keys() - got_p.keys():
            out.append(f"{key}: missing element {name} {_show(ref_p[name][1:])}")
        for name in got_p.keys() - ref_p.keys():
            out.append(f"{key}: unexpected element {name} {_show(got_p[name][1:])}")
        for name in ref_p.keys() & got_p.keys():
            for label, i in (("type", 1), ("minOccurs", 2), ("maxOccurs", 3)):
                if ref_p[name][i] != got_p[name][i]:
                    out.append(f"{key}: element {name} {label} expected "
                               f"{_show(ref_p[name][i])}, got {_show(got_p[name][i])}")
        common = [p[0] for p in ref["particles"] if p[0] in got_p]
        if common != [p[0] for p in got["particles"] if p[0] in ref_p]:
            out.append(f"{key}: element order expected {[p[0] for p in ref['particles']]}, "
                       f"got {[p[0] for p in got['particles']]}")
    if ref["attributes"] != got["attributes"]:
        out.append(f"{key}: attributes expected {_show(ref['attributes'])}, "
                   f"got {_show(got['attributes'])}")
    return out


def _diff_simple(key: str, ref: dict, got: dict) -> list[str]:
    out = []
    for aspect in ("variety", "base", "facets"):
        if ref[aspect] != got[aspect]:
            out.append(f"{key}: {aspect} expected {_show(ref[aspect])}, got {_show(got[aspect])}")
    ref_e, got_e = ref["enumeration"], got["enumeration"]
    if set(ref_e) != set(got_e):
        missing = [v for v in ref_e if v not in got_e]
        extra = [v for v in got_e if v not in ref_e]
        out.append(f"{key}: enumeration missing {missing}, unexpected {extra}")
    elif ref_e != got_e:
        out.append(f"{key}: enumeration order expected {list(ref_e)}, got {list(got_e)}")
    return out


def _diff_set(key: str, ref: frozenset, got: frozenset) -> list[str]:
    out = []
    if ref - got:
        out.append(f"{key}: missing {_show(ref - got)}")
    if got - ref:
        out.append(f"{key}: unexpected {_show(got - ref)}")
    return out


def _anonymous(key: str) -> bool:
    return "/" in key.rpartition("}")[2]  # "{uri}Owner/element": declared inline


def unreferenced_types(facts: Facts) -> set[str]:
    """Keys of global types that no global element reaches: they shape no message."""
    types = {k: v for k, v in facts.items() if k.startswith(("complexType ", "simpleType "))}
    by_name = {k.split(" ", 1)[1]: k for k in types}
    reached: set[str] = set()
    todo = [v for k, v in facts.items() if k.startswith("element ")]
    todo += [k.split(" ", 1)[1] for k in types if _anonymous(k)]  # in use by definition
    while todo:
        name = todo.pop()
        key = by_name.get(name)
        if key is None or key in reached:
            continue
        reached.add(key)
        info = types[key]
        if key.startswith("complexType "):
            todo += [p[1] for p in info["particles"]] + [a[1] for a in info["attributes"]]
            todo += [f"{name}/{p[0]}" for p in info["particles"]]
            todo += [info["base"][1]] if info["base"] else []
        else:
            todo.append(info["base"])
    return {k for k in types if k not in reached and not _anonymous(k)}


def compare(reference: Path | str, candidate: Path | str, *,
            allow_missing_unreferenced: bool = False) -> list[str]:
    """Differences of ``candidate`` against ``reference``; empty when they match.

    ``allow_missing_unreferenced`` tolerates a type declared in the reference that no element
    reaches (it shapes no message), for generators that only declare the types in use.
    """
    ref, got = describe(reference), describe(candidate)
    tolerated = unreferenced_types(ref) if allow_missing_unreferenced else set()
    out: list[str] = []
    for key in sorted(ref.keys() | got.keys()):
        if key not in got and key in tolerated:
            continue
        if key not in got:
            out.append(f"missing: {key} = {_show(ref[key])}")
        elif key not in ref:
            out.append(f"unexpected: {key} = {_show(got[key])}")
        elif ref[key] == got[key]:
            continue
        elif key.startswith("complexType "):
            out.extend(_diff_complex(key, ref[key], got[key]))
        elif key.startswith("simpleType "):
            out.extend(_diff_simple(key, ref[key], got[key]))
        elif isinstance(ref[key], frozenset):
            out.extend(_diff_set(key, ref[key], got[key]))
        else:
            out.append(f"{key}: expected {_show(ref[key])}, got {_show(got[key])}")
    return [line.replace(f"{{{XS}}}", "xs:") for line in out]
