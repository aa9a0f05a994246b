"""``?wsdl`` for each endpoint path, generated from our own service definitions."""
from __future__ import annotations

from functools import lru_cache

from soapgw.soap.schema.base import ServiceDefinition
from soapgw.soap_in.versions import BY_OCPP_VERSION

SERVICE_PATH = "/services/CentralSystemService"
# The combined endpoint describes itself as 1.6; each version-specific one as its version.
PATHS = {SERVICE_PATH: "1.6", f"{SERVICE_PATH}OCPP16": "1.6", f"{SERVICE_PATH}OCPP15": "1.5"}


@lru_cache(maxsize=64)
def _generate(service: ServiceDefinition, address: str) -> bytes:
    from soapgw.soap.wsdl import generate_wsdl
    return generate_wsdl(service, address)


class WsdlDocuments:
    def __init__(self, public_url: str | None):
        self.public_url = public_url

    def address(self, environ) -> str:
        path = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
        if self.public_url:
            return self.public_url + path
        host = environ.get("HTTP_HOST") or (
            f"{environ.get('SERVER_NAME', 'localhost')}:{environ.get('SERVER_PORT', '80')}")
        return f"{environ.get('wsgi.url_scheme', 'http')}://{host}{path}"

    def for_path(self, environ) -> bytes | None:
        version = PATHS.get(environ.get("PATH_INFO", "").rstrip("/"))
        inbound = BY_OCPP_VERSION.get(version)
        if inbound is None:
            return None
        return _generate(inbound.service, self.address(environ))
