"""OCPP SOAP service definitions, one module per service and version, written with spyne types.

``cs15``/``cs16``: CentralSystemService 1.5/1.6; ``cp15``/``cp16``: ChargePointService 1.5/1.6.
Each module exposes ``SERVICE``, a :class:`soapgw.soap.schema.base.ServiceDefinition`.
"""
