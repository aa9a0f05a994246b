"""The web UI's API access page: tokens with their last use, revoke; webhooks, paused ones
with the reason, pause and resume (forms with their CSRF token)."""
from __future__ import annotations

from sqlalchemy import select

from soapgw.core import api_tokens
from soapgw.core.webhooks import subscriptions
from soapgw.store.models import ApiToken, Webhook

from web_support import admin, client, submit, web_app  # noqa: F401


def test_tokens_and_webhooks_page(client, gateway):
    with gateway.sessions.begin() as db:
        created = api_tokens.create_token(db, "billing", "operate")
        token_id = created.row.id
        hook = subscriptions.create(db, subscriptions.WebhookValues("https://192.0.2.7/h"),
                                    resolver=lambda url: ["93.184.215.14"])
        subscriptions.pause(db, hook.id, "message msg_1 failed for 24 h")
        hook_id = hook.id
    page = client.get("/api-access/").text
    assert "billing" in page and "operate" in page and created.token not in page
    assert created.token[:8] in page and "never" in page
    assert "message msg_1 failed for 24 h" in page and "Resume" in page
    assert submit(client, "/api-access/", {}, f"/api-access/webhooks/{hook_id}/resume"
                  ).status_code == 302
    assert submit(client, "/api-access/", {}, f"/api-access/tokens/{token_id}/revoke"
                  ).status_code == 302
    with gateway.sessions() as db:
        assert db.get(Webhook, hook_id).state == "active"
        assert db.get(ApiToken, token_id).revoked_at is not None
    assert client.post(f"/api-access/tokens/{token_id}/revoke").status_code == 400  # no CSRF
