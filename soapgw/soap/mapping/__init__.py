"""Pure functions between spyne objects of an OCPP SOAP version and the core's messages."""
