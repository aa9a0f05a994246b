"""Which callback addresses the gateway may call: a guard against being steered (SSRF).

A station announces its callback address itself (wsa:From), so a station, or anyone able to
send a message in its name, could point the gateway at internal services. The default rule:
the callback host must be the address the station's own requests come from (behind a trusted
reverse proxy, the forwarded client address). An address pinned by an admin, or inside a
configured allowed network, is allowed as well. Link-local and cloud-metadata addresses are
never called, whatever else says so.

``judge_callback`` is a pure function of what is known; ``resolve`` does the DNS look-up the
caller feeds it (at registration and again right before every call).
"""
from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

NEVER_CALLED: tuple[IPNetwork, ...] = tuple(ipaddress.ip_network(n) for n in (
    "169.254.0.0/16",  # IPv4 link-local: metadata services of AWS, GCP, Azure, OpenStack ...
    "fe80::/10",  # IPv6 link-local
    "100.100.100.200/32",  # Alibaba Cloud metadata
    "fd00:ec2::254/128",  # AWS instance metadata over IPv6
    "192.0.0.192/32",  # Oracle Cloud (classic) metadata
    "0.0.0.0/8", "::/128",  # "this host": connects to local services on some systems
    "224.0.0.0/4", "ff00::/8", "255.255.255.255/32",  # multicast and broadcast
))


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    reason: str

    @property
    def label(self) -> str:
        return "allowed" if self.allowed else "refused"


def parse_ip(text: str | None) -> IPAddress | None:
    """An IP address (IPv4-mapped IPv6 unwrapped, zone id dropped), or None."""
    if not text:
        return None
    try:
        address = ipaddress.ip_address(text.strip().strip("[]").split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def never_called(address: IPAddress) -> IPNetwork | None:
    return next((n for n in NEVER_CALLED if address.version == n.version and address in n), None)


def callback_host(address: str | None) -> str | None:
    """The host of an http(s) callback URL, or None when it is not one."""
    try:
        parts = urlsplit(address or "")
        parts.port  # noqa: B018  (raises on a bad port)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return parts.hostname


def reachable(address: str | None,
              resolved: list[str] | None) -> tuple[str, list[IPAddress]] | Verdict:
    """The rules every outbound URL obeys (station callbacks, webhooks): an http(s) URL whose
    host resolves, never to a link-local or cloud-metadata address. Its host and addresses,
    or the refusal."""
    host = callback_host(address)
    if host is None:
        return Verdict(False, f"{address!r} is not an http(s) URL with a host")
    addresses = [a for a in (parse_ip(r) for r in resolved or ()) if a is not None]
    if not addresses:
        return Verdict(False, f"the host {host!r} does not resolve to an IP address")
    for ip in addresses:
        network = never_called(ip)
        if network is not None:
            return Verdict(False, f"{host} resolves to {ip}, in {network} (link-local or cloud "
                                  "metadata): never called")
    return host, addresses


def judge_callback(address: str | None, resolved: list[str] | None, *, pinned: bool,
                   peer_host: str | None, allowed_networks: tuple = ()) -> Verdict:
    """May the gateway call ``address``?

    ``resolved`` holds the IP addresses its host resolves to (None or empty: it did not
    resolve); ``peer_host`` is where the station's own requests came from.
    """
    checked = reachable(address, resolved)
    if isinstance(checked, Verdict):
        return checked
    host, addresses = checked
    if pinned:
        return Verdict(True, "address set by an admin")
    networks = [next((n for n in allowed_networks if ip.version == n.version and ip in n), None)
                for ip in addresses]
    if all(networks):
        return Verdict(True, f"{host} is in the allowed network {networks[0]}")
    peer = parse_ip(peer_host)
    if peer is not None and all(ip == peer for ip in addresses):
        return Verdict(True, f"{host} is the address the station's requests come from")
    shown = ", ".join(str(ip) for ip in addresses)
    return Verdict(False, f"callback host {host} ({shown}) is not the address the station's "
                          f"requests come from ({peer_host or 'unknown'}); pin the address or "
                          "allow its network (SOAPGW_ALLOWED_CALLBACK_NETWORKS)")


def resolve(address: str | None) -> list[str]:
    """The IP addresses the host of ``address`` resolves to ([] when it does not)."""
    host = callback_host(address)
    if host is None:
        return []
    if parse_ip(host) is not None:
        return [host]
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        return []
    return sorted({info[4][0] for info in infos})


def client_address(remote_addr: str | None, forwarded_for: str | None,
                   trusted_proxies: tuple = ()) -> str | None:
    """The address a request comes from: the TCP peer, or, when that peer is a trusted reverse
    proxy, the right-most X-Forwarded-For entry that is not itself a trusted proxy."""
    def trusted(text: str | None) -> bool:
        ip = parse_ip(text)
        return ip is not None and any(ip.version == n.version and ip in n
                                      for n in trusted_proxies)

    if not forwarded_for or not trusted(remote_addr):
        return remote_addr
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not trusted(hop):
            ip = parse_ip(hop)
            return str(ip) if ip is not None else remote_addr
    return hops[0] if hops and parse_ip(hops[0]) else remote_addr
