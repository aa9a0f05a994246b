"""Which SMTP server addresses the dispatcher may connect to.

The host is typed by an admin on the Settings page (not announced by a station or an API
user), and mail relays usually live on the local network: loopback and private addresses are
allowed. The rules every outbound connection obeys still hold: link-local, cloud-metadata,
multicast and "this host" addresses are never connected to (``callback_policy.NEVER_CALLED``).
Pure: the caller resolves the host and connects to the address judged.
"""
from __future__ import annotations

from soapgw.core.commands.callback_policy import Verdict, never_called, parse_ip


def judge_smtp_host(host: str, resolved: list[str]) -> Verdict:
    addresses = [a for a in (parse_ip(r) for r in resolved) if a is not None]
    if not addresses:
        return Verdict(False, f"the SMTP host {host!r} does not resolve to an IP address")
    for ip in addresses:
        network = never_called(ip)
        if network is not None:
            return Verdict(False, f"{host} resolves to {ip}, in {network} (link-local, cloud "
                                  "metadata or broadcast): never connected to")
    return Verdict(True, f"{host} may be connected to")
