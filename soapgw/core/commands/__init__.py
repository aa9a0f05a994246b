"""Commands to stations ("tasks"): payloads, callback safety, task records, side effects, runner.

Protocol-free: the SOAP client (soapgw.soap_out) plugs in through :class:`runner.Sender`.
"""
