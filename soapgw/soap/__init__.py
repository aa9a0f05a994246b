"""What the SOAP edges share: OCPP service definitions (spyne types), envelopes, WS-Addressing,
faults, the lenient schema-guided reader and the WSDL generator."""
