"""Who may speak as a station: source networks, an HTTP Basic password, a TLS client
certificate (checked by a trusted reverse proxy).

SOAP OCPP has no security profile of its own; soapgw applies what a station can do: come from
its APN or VPN range, send HTTP Basic credentials (user = chargeBoxIdentity, as OCPP-J security
profile 1 does; many SOAP stations take them in the central system URL), or present a client
certificate to a TLS proxy in front of soapgw.

``judge_station`` is a pure function of the station's policy and of what the request
presented; the password check is fed in (``verify``), as the DNS look-up is to
``judge_callback``. Modes (``SOAPGW_STATION_AUTH``):

- ``off``: nothing is checked (networks, passwords and certificates are ignored);
- ``optional`` (default): what is configured for a station is enforced (its networks, else
  the default ``SOAPGW_STATION_NETWORKS``; its password; its certificate);
- ``required``: the same, and a station with neither a password nor a certificate is refused.
"""
from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from soapgw.core.call import Presented
from soapgw.core.commands.callback_policy import IPNetwork, parse_ip

__all__ = ["Presented", "StationPolicy", "StationVerdict", "judge_station"]

MODES = ("off", "optional", "required")
CALLBACK_POLICIES = ("follow", "keep")

# Why a message was refused; each kind has its HTTP status (password: 401 with
# WWW-Authenticate, so that a station or a person knows credentials are wanted).
NETWORK, CERTIFICATE, PASSWORD, UNREGISTERED = "network", "certificate", "password", "required"
_STATUS = {NETWORK: 403, CERTIFICATE: 403, PASSWORD: 401, UNREGISTERED: 403}


@dataclass(frozen=True)
class StationPolicy:
    """What a station must show."""

    mode: str = "optional"
    networks: tuple[IPNetwork, ...] = ()
    networks_source: str = ""  # "station" | "default" (SOAPGW_STATION_NETWORKS)
    password_hash: str | None = None
    certificate: str | None = None

    @property
    def checks_nothing(self) -> bool:
        return self.mode == "off" or (not self.networks and self.password_hash is None
                                      and self.certificate is None and self.mode != "required")


@dataclass(frozen=True)
class StationVerdict:
    allowed: bool
    reason: str = ""
    kind: str = ""  # network | certificate | password | required

    @property
    def http_status(self) -> int:
        return _STATUS.get(self.kind, 200)

    @property
    def asks_for_credentials(self) -> bool:
        return self.kind == PASSWORD


ALLOWED = StationVerdict(True)


def judge_station(charge_box_id: str, policy: StationPolicy, presented: Presented,
                  verify: Callable[[str, str], bool]) -> StationVerdict:
    """May this request speak as ``charge_box_id``? Networks first (no password is checked for
    a request from the wrong place), then the certificate, then the password.
    ``verify(password_hash, password)`` checks a password."""
    if policy.checks_nothing:
        return ALLOWED
    if policy.networks and not in_networks(presented.peer, policy.networks):
        shown = ", ".join(str(n) for n in policy.networks)
        where = "its own networks" if policy.networks_source == "station" else \
            "the default station networks (SOAPGW_STATION_NETWORKS)"
        return StationVerdict(False, f"{charge_box_id} may only speak from {shown} ({where}); "
                                     f"this request came from {presented.peer or 'unknown'}",
                              NETWORK)
    if policy.certificate is not None:
        if presented.certificate is None:
            why = ("a client-certificate header came from an address that is not a trusted "
                   "proxy (SOAPGW_TRUSTED_PROXIES) and was ignored"
                   if presented.certificate_untrusted else "no verified client certificate "
                   "was forwarded by a trusted TLS proxy")
            return StationVerdict(False, f"{charge_box_id} must present its client "
                                         f"certificate: {why}", CERTIFICATE)
        if not certificate_matches(policy.certificate, presented.certificate):
            return StationVerdict(False, f"the client certificate {presented.certificate!r} is "
                                         f"not the one registered for {charge_box_id}",
                                  CERTIFICATE)
    if policy.password_hash is not None:
        if presented.malformed_authorization:
            return StationVerdict(False, presented.malformed_authorization, PASSWORD)
        if presented.password is None:
            return StationVerdict(False, f"{charge_box_id} has a password: send HTTP Basic "
                                         "credentials (user = chargeBoxIdentity)", PASSWORD)
        if presented.username != charge_box_id:
            return StationVerdict(False, "the HTTP Basic user must be the chargeBoxIdentity "
                                         f"{charge_box_id!r}", PASSWORD)
        if not verify(policy.password_hash, presented.password):
            return StationVerdict(False, f"wrong password for {charge_box_id}", PASSWORD)
    elif policy.mode == "required" and policy.certificate is None:
        return StationVerdict(False, f"{charge_box_id} has no password or client certificate "
                                     "registered, and SOAPGW_STATION_AUTH=required",
                              UNREGISTERED)
    return ALLOWED


def in_networks(address: str | None, networks: tuple) -> bool:
    ip = parse_ip(address)
    return ip is not None and any(ip.version == n.version and ip in n for n in networks)


@lru_cache(maxsize=4096)
def parse_networks(text: str | None) -> tuple[IPNetwork, ...]:
    """The stored comma-separated CIDRs of a station (parsed once per process and value)."""
    return read_networks((text or "").split(","))


def read_networks(items) -> tuple[IPNetwork, ...]:
    """CIDRs or addresses (``10.8.0.0/16``, ``192.0.2.7``); ValueError names a bad one."""
    networks = []
    for item in filter(None, (str(part).strip() for part in items)):
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError(f"{item!r} is not an IP address or network (use CIDR, e.g. "
                             "10.8.0.0/16)") from None
    return tuple(dict.fromkeys(networks))


def format_networks(networks) -> str | None:
    return ",".join(str(n) for n in networks) or None


_FINGERPRINT = re.compile(r"(?:sha1:|sha256:)?((?:[0-9a-f]{2}:?){20}|(?:[0-9a-f]{2}:?){32})")


def normalise_certificate(value: str) -> str:
    """A fingerprint (SHA-1 or SHA-256 hex, colons optional, case ignored) or a subject DN
    (spaces around separators ignored, as proxies differ in how they print it)."""
    text = value.strip()
    match = _FINGERPRINT.fullmatch(text.lower())
    if match:
        return match.group(1).replace(":", "")
    return re.sub(r"\s*([,/=+])\s*", r"\1", text)


def certificate_matches(registered: str, presented: str) -> bool:
    return normalise_certificate(registered) == normalise_certificate(presented)


def from_trusted_proxy(remote_addr: str | None, trusted_proxies: tuple) -> bool:
    return bool(trusted_proxies) and in_networks(remote_addr, trusted_proxies)
