"""The OCPP-J 1.6 upstream bridge: every bridged SOAP station is an ordinary OCPP-J charge point
of an upstream central system (CSMS), one WebSocket per station, in one asyncio process
(``soapgw bridge``; ``soapgw serve`` runs it beside the workers when SOAPGW_UPSTREAM_URL is
set).

- link.py: one station's WebSocket (connect, backoff, pings, one CALL at a time each way,
  replay of the durable queue in order, frames journaled)
- commands.py: the CSMS's CALLs, each a task of the task runner (origin ``upstream``)
- advisor.py: decision messages asked of the CSMS by the SOAP workers through the bridge
  (a Unix socket), with the core's advisor port
- process.py: the process (stations reloaded from SQL, outbox copied into the queue)
"""
