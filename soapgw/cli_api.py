"""``soapgw token``, ``soapgw webhook``, ``soapgw dispatch`` and ``soapgw stream``: the REST
API's credentials, webhook subscriptions, the webhook dispatcher and the event stream server.
"""
from __future__ import annotations

import json
import logging
import signal
import sys
import threading

from soapgw.cli_support import EXIT_USAGE, CliError, open_sessions
from soapgw.config import Settings
from soapgw.core import api_tokens
from soapgw.core.errors import Invalid, NotFound
from soapgw.core.webhooks import keys, subscriptions
from soapgw.core.webhooks.subscriptions import WebhookValues


def _refused(invalid: Invalid) -> CliError:
    return CliError("; ".join(f"{k}: {v}" for k, v in invalid.problems.items()), EXIT_USAGE)


def _when(value) -> str:
    return value.isoformat() if value else "-"


# --- tokens ----------------------------------------------------------------------------------
def cmd_token_create(settings: Settings, args) -> int:
    try:
        with open_sessions(settings).begin() as db:
            created = api_tokens.create_token(db, args.name, args.scope)
    except Invalid as invalid:
        raise _refused(invalid) from None
    print(created.token)  # only the token on stdout: `TOKEN=$(soapgw token create ...)`
    print(f"created token {args.name!r} ({args.scope}); it is not shown again", file=sys.stderr)
    return 0


def cmd_token_list(settings: Settings, args) -> int:
    with open_sessions(settings)() as db:
        rows = api_tokens.tokens(db)
    print("id\tname\tscope\tprefix\tcreated\tlast_used\trevoked")
    for row in rows:
        print(f"{row.id}\t{row.name}\t{row.scope}\t{row.prefix}…\t{_when(row.created_at)}\t"
              f"{_when(row.last_used_at)}\t{_when(row.revoked_at)}")
    return 0


def cmd_token_revoke(settings: Settings, args) -> int:
    try:
        with open_sessions(settings).begin() as db:
            row = api_tokens.revoke(db, args.token)
            name = row.name
    except NotFound as error:
        raise CliError(str(error)) from None
    print(f"revoked token {name!r}")
    return 0


# --- webhooks --------------------------------------------------------------------------------
def _split(text: str | None) -> list[str]:
    return [item.strip() for item in (text or "").split(",") if item.strip()]


def cmd_webhook_add(settings: Settings, args) -> int:
    try:
        with open_sessions(settings).begin() as db:
            hook = subscriptions.create(db, WebhookValues(args.url, _split(args.types),
                                                          _split(args.stations),
                                                          args.description),
                                        settings.webhook_allowed_networks)
            hook_id, nonce = hook.id, hook.secret_nonce
    except Invalid as invalid:
        raise _refused(invalid) from None
    print(keys.secret(keys.load_key(settings.instance_path), nonce))
    print(f"webhook {hook_id} subscribed; the line above is its signing secret",
          file=sys.stderr)
    return 0


def cmd_webhook_list(settings: Settings, args) -> int:
    from sqlalchemy import select
    from soapgw.store.models import Webhook
    with open_sessions(settings)() as db:
        rows = db.scalars(select(Webhook).order_by(Webhook.id)).all()
    print("id\tstate\turl\ttypes\tstations\tpaused_reason")
    for row in rows:
        print(f"{row.id}\t{row.state}\t{row.url}\t{','.join(json.loads(row.types)) or '*'}\t"
              f"{','.join(json.loads(row.stations)) or '*'}\t{row.paused_reason or '-'}")
    return 0


def _act(settings: Settings, act, webhook_id: int, done: str) -> int:
    try:
        with open_sessions(settings).begin() as db:
            act(db, webhook_id)
    except NotFound as error:
        raise CliError(str(error)) from None
    print(f"webhook {webhook_id} {done}")
    return 0


def cmd_webhook_remove(settings: Settings, args) -> int:
    return _act(settings, subscriptions.delete, args.id, "removed")


def cmd_webhook_resume(settings: Settings, args) -> int:
    return _act(settings, subscriptions.resume, args.id, "resumed")


def cmd_webhook_pause(settings: Settings, args) -> int:
    return _act(settings, lambda db, i: subscriptions.pause(db, i, "paused by hand"), args.id,
                "paused")


# --- processes -------------------------------------------------------------------------------
def _until_sigterm(name: str):
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    logging.basicConfig(stream=sys.stderr, level=logging.INFO,
                        format=f"soapgw {name}: %(message)s")
    return stop


def cmd_dispatch(settings: Settings, args) -> int:
    """Deliver webhooks and notification mails until SIGTERM (``soapgw serve`` runs it beside
    the workers). Mail goes out in its own thread: a slow SMTP server delays no webhook."""
    from soapgw.http_out.webhooks import Dispatcher
    from soapgw.mail_out.dispatcher import MailDispatcher
    sessions = open_sessions(settings)
    dispatcher = Dispatcher(sessions, settings)
    mailer = MailDispatcher(sessions, settings)
    if args.once:
        dispatcher.run_once()
        mailer.run_once()
        return 0
    stop = _until_sigterm("dispatch")
    mail_thread = threading.Thread(target=mailer.run, args=(stop,), name="soapgw-mail",
                                   daemon=True)
    mail_thread.start()
    try:
        dispatcher.run(stop)
    except KeyboardInterrupt:
        stop.set()
    mail_thread.join(timeout=30)
    return 0


def cmd_stream(settings: Settings, args) -> int:
    """Serve the live event stream (SSE) on its own port, gunicorn gthread workers."""
    from soapgw.api.stream import serve_stream
    serve_stream(settings, args.host, args.port, args.threads)
    return 0


def register(commands) -> None:
    token = commands.add_parser("token", help="REST API bearer tokens").add_subparsers(
        dest="token", required=True)
    create = token.add_parser("create", help="create a token; prints only the token, once")
    create.add_argument("name", metavar="NAME")
    create.add_argument("--scope", choices=api_tokens.SCOPES, default="read",
                        help="read: see; operate: also commands and tags; admin: everything")
    create.set_defaults(handler=cmd_token_create)
    token.add_parser("list", help="tokens with scope and last use").set_defaults(
        handler=cmd_token_list)
    revoke = token.add_parser("revoke", help="revoke a token (by id or name)")
    revoke.add_argument("token", metavar="ID_OR_NAME")
    revoke.set_defaults(handler=cmd_token_revoke)

    webhook = commands.add_parser("webhook", help="webhook subscriptions").add_subparsers(
        dest="webhook", required=True)
    add = webhook.add_parser("add", help="subscribe a URL; prints only its signing secret")
    add.add_argument("url", metavar="URL")
    add.add_argument("--types", help="comma-separated event types (default: all)")
    add.add_argument("--stations", help="comma-separated chargeBoxIds (default: all)")
    add.add_argument("--description")
    add.set_defaults(handler=cmd_webhook_add)
    webhook.add_parser("list", help="subscriptions and their state").set_defaults(
        handler=cmd_webhook_list)
    for name, handler, text in (("remove", cmd_webhook_remove, "unsubscribe"),
                                ("pause", cmd_webhook_pause, "stop delivering for now"),
                                ("resume", cmd_webhook_resume, "deliver again")):
        sub = webhook.add_parser(name, help=text)
        sub.add_argument("id", type=int, metavar="ID")
        sub.set_defaults(handler=handler)

    dispatch = commands.add_parser("dispatch", help="deliver webhooks and notification mails (soapgw serve runs it)")
    dispatch.add_argument("--once", action="store_true", help="one round, then exit")
    dispatch.set_defaults(handler=cmd_dispatch)
    stream = commands.add_parser("stream", help="serve the live event stream (soapgw serve "
                                                "runs it on --stream-port)")
    stream.add_argument("--host", default="127.0.0.1")
    stream.add_argument("--port", type=int, default=8081)
    stream.add_argument("--threads", type=int, default=100,
                        help="listeners at once (one thread each)")
    stream.set_defaults(handler=cmd_stream)
