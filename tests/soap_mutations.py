"""Seeded mutations of real station messages (``../shared/soap-samples``), shared by the fuzz
tests: values out of range or of the wrong type, elements dropped, duplicated, renamed or moved
to other namespaces, xsi:nil / xsi:type / mustUnderstand added, bytes cut or flipped."""
from __future__ import annotations

import random

from lxml import etree

from conftest import SAMPLES

SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
NAMESPACES = ["urn://Ocpp/Cs/2015/10/", "urn://Ocpp/Cs/2012/06/", "urn://Ocpp/Cp/2015/10/",
              "urn://Ocpp/Cp/2012/06/", "urn://Ocpp/Cs/2010/08/", "urn:x", None]
VALUES = ["", " ", "-7", "0", "-1", "2147483647", "2147483648", "-2147483649", str(2**63),
          str(10**30), "9" * 400, "1e400", "NaN", "abc", "1.5", "0x10", "true", "2",
          "2026-13-45T99:99:99Z", "2026-02-30T10:00:00Z", "0000-01-01T00:00:00",
          "9999-12-31T23:59:59.9999999+14:00",
          "x" * 3000, "\u00e9\u00e8\U0001F600", "Accepted", "Invalid", "Charging", "Occupied",
          "Energy.Active.Import.Register", "L1", "Wh", "Sample.Periodic",
          "http://:8082/", "http://127.0.0.1:1/", "urn:uuid:dup"]


def station_requests() -> list[bytes]:
    """Requests stations sent (the CS->CP captures are not for the CentralSystemService)."""
    return [p.read_bytes() for p in sorted(SAMPLES.glob("1[56]_*_req_*.xml"))
            if "izivia-cs" not in p.name and "adp" not in p.name]


def _elements(root) -> list:
    return [e for e in root.iter() if isinstance(e.tag, str)]


def mutate_in_place(root: etree._Element, rng: random.Random) -> None:
    """One to three mutations of ``root`` or its descendants (any of them may be renamed,
    removed or moved, but not ``root`` itself when it is the document's root)."""
    for _ in range(rng.randint(1, 3)):
        elements = _elements(root)
        target = rng.choice(elements)
        kind = rng.randrange(9)
        if kind == 0 and len(target) == 0:
            target.text = rng.choice(VALUES)
        elif kind == 1 and target.getparent() is not None:
            target.getparent().remove(target)
        elif kind == 2 and target.getparent() is not None:
            target.addnext(etree.fromstring(etree.tostring(target)))
        elif kind == 3:
            target.set(f"{{{XSI}}}nil", rng.choice(["true", "1", "false"]))
        elif kind == 4:
            target.set(f"{{{XSI}}}type", rng.choice(["xs:string", "xs:int", "cs:AuthorizeRequest",
                                                     "IdTagInfo", "nope:x"]))
        elif kind == 5:
            target.set(f"{{{rng.choice([SOAP12, SOAP11])}}}mustUnderstand",
                       rng.choice(["true", "1", "0"]))
        elif kind == 6 and target.getparent() is not None:
            name = etree.QName(target).localname
            target.tag = etree.QName(rng.choice(NAMESPACES), rng.choice(
                [name, name.upper(), name + "X", "heartbeatRequest", "authorizeRequest"])).text
        elif kind == 7:
            target.text = (target.text or "") + rng.choice(VALUES)
        else:
            sibling = rng.choice(elements)
            if sibling is not target and target not in sibling.iterancestors() \
                    and sibling not in target.iterancestors() and target.getparent() is not None:
                target.addnext(sibling)


def mutate_tree(data: bytes, rng: random.Random) -> bytes:
    root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
    mutate_in_place(root, rng)
    return etree.tostring(root)


def mutate_bytes(data: bytes, rng: random.Random) -> bytes:
    kind = rng.randrange(4)
    at = rng.randrange(len(data))
    if kind == 0:
        return data[:at]
    if kind == 1:
        return data[:at] + bytes([rng.randrange(256)]) + data[at + 1:]
    if kind == 2:
        return data[:at] + rng.choice([b"<", b"&", b"]]>", b"\x00", b"&lol;", b"<!--"]) + data[at:]
    return data.replace(b"2003/05/soap-envelope", b"2003/05/soap-envelopeX", 1)


def mutations(count: int, seed: int):
    """``count`` mutated station requests, each with a Content-Type to send it with."""
    rng = random.Random(seed)
    samples = station_requests()
    for _ in range(count):
        data = rng.choice(samples)
        try:
            mutated = mutate_tree(data, rng) if rng.random() < 0.85 else mutate_bytes(data, rng)
        except etree.XMLSyntaxError:  # the one sample that is not well-formed
            mutated = mutate_bytes(data, rng)
        yield mutated, rng.choice(["application/soap+xml; charset=utf-8",
                                   "text/xml; charset=utf-8"])
