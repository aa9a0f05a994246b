"""Commands to stations over SOAP: zeep client, OCPP-J <-> SOAP mapping, CLI."""
