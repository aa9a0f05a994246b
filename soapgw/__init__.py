"""soapgw: an OCPP 1.5/1.6 SOAP central system and gateway."""
from soapgw import spyne_compat  # noqa: F401  (must run before any spyne import)

__version__ = "0.1.0"
