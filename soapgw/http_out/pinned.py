"""POST to a URL whose address was judged first, connecting to exactly that address.

A host name is resolved once, the addresses are judged (``core.webhooks.policy``), and the
connection goes to the judged IP with the URL's host in the ``Host`` header and, for https,
in SNI and the certificate check: a DNS answer that changes between the check and the
connection (rebinding) cannot steer the request elsewhere. Look-ups are kept ``DNS_TTL``
seconds; redirects are not followed.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from urllib.parse import urlsplit

import urllib3

from soapgw.core.commands.callback_policy import Verdict, resolve

DNS_TTL = 30.0


class Refused(Exception):
    """The URL's address may not be called."""


class PinnedClient:
    def __init__(self, judge: Callable[[str, list[str]], Verdict],
                 resolver: Callable[[str], list[str]] = resolve):
        self.judge, self.resolver = judge, resolver
        self._addresses: dict[str, tuple[float, str]] = {}
        self._pools: dict[tuple, urllib3.HTTPConnectionPool] = {}
        self._lock = threading.Lock()

    def _address(self, url: str) -> str:
        host = urlsplit(url).hostname or ""
        cached = self._addresses.get(host)
        if cached and time.monotonic() - cached[0] < DNS_TTL:
            return cached[1]
        addresses = self.resolver(url)
        verdict = self.judge(url, addresses)
        if not verdict.allowed:
            raise Refused(verdict.reason)
        address = addresses[0]
        self._addresses[host] = (time.monotonic(), address)
        return address

    def _pool(self, scheme: str, ip: str, port: int, host: str) -> urllib3.HTTPConnectionPool:
        key = (scheme, ip, port, host)
        with self._lock:
            pool = self._pools.get(key)
            if pool is None:
                if scheme == "https":
                    pool = urllib3.HTTPSConnectionPool(ip, port, maxsize=4, server_hostname=host,
                                                       assert_hostname=host,
                                                       cert_reqs="CERT_REQUIRED")
                else:
                    pool = urllib3.HTTPConnectionPool(ip, port, maxsize=4)
                self._pools[key] = pool
            return pool

    def post(self, url: str, body: bytes, headers: dict[str, str],
             timeout: float) -> tuple[int, str]:
        """The answer's status and (start of) text; raises Refused or an urllib3 error."""
        parts = urlsplit(url)
        ip = self._address(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        pool = self._pool(parts.scheme, ip, port, parts.hostname)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        host = parts.hostname if parts.port is None else f"{parts.hostname}:{parts.port}"
        if ":" in (parts.hostname or "") and parts.port is None:
            host = f"[{parts.hostname}]"
        response = pool.urlopen("POST", path, body=body,
                                headers={**headers, "Host": host}, retries=False,
                                redirect=False, timeout=urllib3.Timeout(connect=timeout,
                                                                        read=timeout),
                                preload_content=False)
        try:
            text = response.read(4096).decode("utf-8", "replace")
            response.drain_conn()
        finally:
            response.release_conn()
        return response.status, text
