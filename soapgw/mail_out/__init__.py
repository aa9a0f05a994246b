"""Outbound e-mail over SMTP: the notifications of core.mail, sent by ``soapgw dispatch``."""
