"""The gateway's core: version-neutral OCPP messages and the central-system logic.

Nothing in here knows about XML, SOAP or HTTP; the protocol edges map onto these types.
"""
