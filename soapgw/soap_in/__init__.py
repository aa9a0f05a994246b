"""The inbound SOAP edge: CentralSystemService for OCPP 1.5 and 1.6 stations."""
