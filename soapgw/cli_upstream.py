"""``soapgw upstream ...`` (which stations the OCPP-J bridge connects, and how) and
``soapgw bridge`` (the bridge process; ``soapgw serve`` runs it when SOAPGW_UPSTREAM_URL is
set). The settings commands migrate the database first and work before ``serve`` ever ran; a
running bridge picks them up within seconds."""
from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import sys

from soapgw.cli_support import EXIT_USAGE, CliError, open_sessions
from soapgw.config import Settings
from soapgw.core import upstream
from soapgw.core.errors import Invalid
from soapgw.core.upstream_secret import PasswordBox

PASSWORD_VARIABLE = "SOAPGW_UPSTREAM_PASSWORD"
STATUS_COLUMNS = ("charge_box_id", "connected", "since", "queue", "oldest", "last_error")


def _refused(invalid: Invalid) -> CliError:
    return CliError("; ".join(invalid.problems.values()), EXIT_USAGE)


def _note_unregistered(db, ids: list[str]) -> None:
    missing = upstream.unregistered(db, ids)
    if missing:
        print(f"soapgw: note: not registered (yet): {', '.join(missing)}", file=sys.stderr)


def cmd_switch(settings: Settings, args) -> int:
    enabled = args.upstream == "on"
    try:
        with open_sessions(settings).begin() as db:
            upstream.set_enabled(db, args.ids, enabled)
            _note_unregistered(db, args.ids)
    except Invalid as invalid:
        raise _refused(invalid) from None
    print(f"upstream {'on' if enabled else 'off'}: {' '.join(args.ids)}")
    return 0


def cmd_url(settings: Settings, args) -> int:
    url = None if args.url in ("-", "default") else args.url
    try:
        with open_sessions(settings).begin() as db:
            upstream.set_url(db, args.id, url)
            _note_unregistered(db, [args.id])
    except Invalid as invalid:
        raise _refused(invalid) from None
    shown = url.rstrip("/") if url else f"the default ({settings.upstream_url or 'not set'})"
    print(f"{args.id}: upstream base URL {shown}")
    return 0


def _password(args) -> bytes | None:
    if args.clear:
        return None
    value = os.environ.get(PASSWORD_VARIABLE)
    if value is None:
        value = sys.stdin.readline()
        value = value[:-1] if value.endswith("\n") else value
        value = value[:-1] if value.endswith("\r") else value
    if not value:
        raise CliError(f"no password given (stdin or {PASSWORD_VARIABLE}); "
                       "--clear removes the password", EXIT_USAGE)
    return value.encode()


def cmd_password(settings: Settings, args) -> int:
    password = _password(args)
    try:
        with open_sessions(settings).begin() as db:
            upstream.set_password(db, args.id, password, PasswordBox(settings.instance_path))
            _note_unregistered(db, [args.id])
    except Invalid as invalid:
        raise _refused(invalid) from None
    print(f"{args.id}: upstream password {'removed' if password is None else 'stored'}")
    return 0


def cmd_status(settings: Settings, args) -> int:
    with open_sessions(settings)() as db:
        rows = [view.as_status() for view in upstream.link_views(db)]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print("\t".join(STATUS_COLUMNS))
    for row in rows:
        cells = [row["charge_box_id"], "yes" if row["connected"] else "no",
                 row["since"] or "-", str(row["queue"]), row["oldest"] or "-",
                 (row["last_error"] or "-").replace("\t", " ").replace("\n", " ")]
        print("\t".join(cells))
    return 0


def cmd_bridge(settings: Settings, args) -> int:
    """The bridge in the foreground until SIGTERM or Ctrl-C."""
    from soapgw.app import Gateway
    from soapgw.bridge.process import Bridge
    from soapgw.heap import settle_heap
    logging.basicConfig(stream=sys.stderr, level=logging.INFO,
                        format="soapgw bridge: %(levelname)s %(message)s")
    logging.getLogger("websockets").setLevel(logging.WARNING)
    open_sessions(settings)  # migrated
    gateway = Gateway.from_settings(settings)
    bridge = Bridge(settings, gateway.engine, gateway.sessions, gateway.task_runner)
    settle_heap()  # its loaded modules out of the collector's walks (latency of every link)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for name in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(name, stop.set)
        await bridge.run(stop)

    try:
        asyncio.run(main())
    finally:
        gateway.task_runner.shutdown()
    return 0


def register(commands) -> None:
    """Add ``upstream`` and ``bridge`` to the ``soapgw`` sub-command parser."""
    parser = commands.add_parser("upstream", help="the OCPP-J upstream bridge's stations")
    sub = parser.add_subparsers(dest="upstream", required=True)
    for name, text in (("off", "keep stations off the upstream central system"),
                       ("on", "bridge stations again")):
        switch = sub.add_parser(name, help=text)
        switch.add_argument("ids", nargs="+", metavar="ID")
        switch.set_defaults(handler=cmd_switch)
    url = sub.add_parser("url", help="a station's own base URL (it connects to URL/<id>)")
    url.add_argument("id", metavar="ID")
    url.add_argument("url", metavar="URL", help="ws:// or wss://; '-' returns to the default")
    url.set_defaults(handler=cmd_url)
    password = sub.add_parser(
        "password", help=f"the station's Basic-auth password (stdin, or {PASSWORD_VARIABLE})")
    password.add_argument("id", metavar="ID")
    password.add_argument("--clear", action="store_true", help="connect without Basic auth")
    password.set_defaults(handler=cmd_password)
    status = sub.add_parser("status", help="each station's link: connected, queue, last error")
    status.add_argument("--json", action="store_true")
    status.set_defaults(handler=cmd_status)
    bridge = commands.add_parser("bridge", help="run the OCPP-J upstream bridge (soapgw serve "
                                                "runs it when SOAPGW_UPSTREAM_URL is set)")
    bridge.set_defaults(handler=cmd_bridge)
