"""Webhook subscriptions and their delivery queue (the HTTP side is soapgw.webhook_out)."""
