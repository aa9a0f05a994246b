"""Which webhook URLs the dispatcher may call: the outbound safety rules of station callbacks
(``callback_policy``), for an address an API user types instead of one a station announces.

Link-local and cloud-metadata addresses are never called; loopback, private and other
non-public addresses only inside ``SOAPGW_WEBHOOK_ALLOWED_NETWORKS``. Pure: the caller
resolves the host (``callback_policy.resolve``) and connects to an address it judged.
"""
from __future__ import annotations

from soapgw.core.commands.callback_policy import Verdict, reachable


def judge_webhook(url: str | None, resolved: list[str] | None,
                  allowed_networks: tuple = ()) -> Verdict:
    checked = reachable(url, resolved)
    if isinstance(checked, Verdict):
        return checked
    host, addresses = checked
    for ip in addresses:
        if ip.is_global:
            continue
        if not any(ip.version == n.version and ip in n for n in allowed_networks):
            return Verdict(False, f"{host} resolves to {ip}, a loopback, private or reserved "
                                  "address: allow its network in "
                                  "SOAPGW_WEBHOOK_ALLOWED_NETWORKS to call it")
    return Verdict(True, f"{host} may be called")
