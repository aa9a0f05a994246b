"""Which webhook URLs the dispatcher may call: the outbound safety rules of station callbacks
(``callback_policy``), for an address an API user types instead of one a station announces.

Link-local and cloud-metadata addresses are never called; loopback, private and other
non-public addresses only inside ``SOAPGW_WEBHOOK_ALLOWED_NETWORKS``. Pure: the caller
resolves the host (``callback_policy.resolve``) and connects to an address it judged.
"""
from __future__ import annotations

from soapgw.core.commands.callback_policy import (Verdict, callback_host, never_called,
                                                  parse_ip)


def judge_webhook(url: str | None, resolved: list[str] | None,
                  allowed_networks: tuple = ()) -> Verdict:
    host = callback_host(url)
    if host is None:
        return Verdict(False, f"{url!r} is not an http(s) URL with a host")
    addresses = [a for a in (parse_ip(r) for r in resolved or ()) if a is not None]
    if not addresses:
        return Verdict(False, f"the host {host!r} does not resolve to an IP address")
    for ip in addresses:
        if (network := never_called(ip)) is not None:
            return Verdict(False, f"{host} resolves to {ip}, in {network} (link-local or "
                                  "cloud metadata): never called")
    for ip in addresses:
        if ip.is_global:
            continue
        if not any(ip.version == n.version and ip in n for n in allowed_networks):
            return Verdict(False, f"{host} resolves to {ip}, a loopback, private or reserved "
                                  "address: allow its network in "
                                  "SOAPGW_WEBHOOK_ALLOWED_NETWORKS to call it")
    return Verdict(True, f"{host} may be called")
