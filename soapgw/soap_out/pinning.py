"""Connecting to the address the callback guard checked, not to a fresh DNS answer.

The guard resolves a station's callback host and judges the addresses; if the HTTP client
resolved the name again, a resolver answering differently the second time (DNS rebinding)
would steer the call to an address that was never judged. So the call goes to the checked IP:
the URL names the IP, the ``Host`` header keeps the name, and for https the TLS server name
(SNI) and the certificate check use the name too (:class:`PinnedAddressAdapter`).
"""
from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from requests.adapters import HTTPAdapter

from soapgw.core.commands.callback_policy import parse_ip


def pinned_url(address: str, ip: str) -> tuple[str, str | None]:
    """(URL to connect to, Host header); the address unchanged when its host is an IP."""
    parts = urlsplit(address)
    host = parts.hostname
    if not host or parse_ip(host) is not None:
        return address, None
    literal = f"[{ip}]" if ":" in ip else ip
    netloc = literal if parts.port is None else f"{literal}:{parts.port}"
    userinfo, at, _ = parts.netloc.rpartition("@")
    if at:
        netloc = f"{userinfo}@{netloc}"
    host_header = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment)), \
        host_header


def _host_name(host_header: str) -> str:
    if host_header.startswith("["):
        return host_header[1:].partition("]")[0]
    return host_header.rpartition(":")[0] if ":" in host_header else host_header


class PinnedAddressAdapter(HTTPAdapter):
    """An https request to an IP literal that carries a ``Host`` header with a name (what
    :func:`pinned_url` makes) is verified as that name: SNI and certificate check. Requests
    to names, or without a Host header, are as with requests' own adapter."""

    def build_connection_pool_key_attributes(self, request, verify, cert=None):
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(
            request, verify, cert)
        host_header = request.headers.get("Host")
        if host_params.get("scheme") == "https" and host_header and \
                parse_ip(host_params.get("host")) is not None:
            name = _host_name(host_header)
            if parse_ip(name) is None:
                pool_kwargs["server_hostname"] = name
                if verify is not False:
                    pool_kwargs["assert_hostname"] = name
        return host_params, pool_kwargs
