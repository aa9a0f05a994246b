"""The ``soapgw`` command line. Every command reads SOAPGW_* settings and migrates the schema
when needed; errors print one line on stderr and exit non-zero."""
from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from soapgw.cli_support import EXIT_USAGE, CliError, open_sessions
from soapgw.config import ConfigError, Settings
from soapgw.core import stations, tags
from soapgw.core.errors import Invalid
from soapgw.timestamps import TimestampError, parse_timestamp
from soapgw.store.database import is_sqlite_file, make_engine
from soapgw.store.migrate import upgrade
from soapgw.store.wal_checkpoint import WalCheckpointer
from soapgw.core.housekeeping import Housekeeper
from soapgw.simulator import cli as simulator_cli
from soapgw import cli_api, cli_tasks, cli_upstream
from soapgw.store.models import ChargeBox, IdTag
from soapgw.web import cli as web_cli

def _at_least(minimum: int):
    def count(text: str) -> int:
        value = int(text)
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}")
        return value
    return count


# --- commands --------------------------------------------------------------------------------
def cmd_serve(settings: Settings, args) -> int:
    from soapgw.server import THREADS, serve
    for option, value in (("--ui-workers", args.ui_workers), ("--threads", args.threads)):
        if value is not None and args.sync:
            raise CliError(f"{option} does not go with --sync (the sync workers serve "
                           "everything, one request at a time)", EXIT_USAGE)
    upgrade(make_engine(settings.database_url))
    serve(settings, host=args.host, port=args.port, workers=args.workers,
          ui_workers=1 if args.ui_workers is None else args.ui_workers, buffered=not args.sync,
          threads=args.threads or THREADS,
          stream_port=args.port + 1 if args.stream_port is None else args.stream_port)
    return 0


def cmd_db_upgrade(settings: Settings, args) -> int:
    applied = upgrade(make_engine(settings.database_url))
    print("database migrated to the latest schema" if applied else "database already up to date")
    return 0


def _refused(invalid: Invalid, options: dict[str, str]) -> CliError:
    """A service's refusal in the words of the command line (its option names)."""
    return CliError("; ".join(f"{options.get(name, name)}: {reason}"
                              for name, reason in invalid.problems.items()), EXIT_USAGE)


def cmd_chargebox_add(settings: Settings, args) -> int:
    try:
        with open_sessions(settings).begin() as db:
            registered = stations.register(db, [i.strip() for i in args.ids if i.strip()],
                                           args.status)
    except Invalid as invalid:
        raise _refused(invalid, {"ids": "ID", "registration_status": "--status"}) from None
    print(f"added {len(registered.added)} charge box(es), {len(registered.existing)} already "
          "registered")
    return 0


def cmd_chargebox_list(settings: Settings, args) -> int:
    with open_sessions(settings)() as db:
        rows = db.scalars(select(ChargeBox).order_by(ChargeBox.charge_box_id)).all()
    print("charge_box_id\tstatus\tocpp\tlast_seen\tendpoint\tcallback")
    for cb in rows:
        seen = cb.last_message_at.isoformat() if cb.last_message_at else "-"
        # the callback safety verdict: may commands go to that endpoint? (soapgw call)
        verdict = cb.endpoint_verdict or "-"
        if cb.endpoint_verdict == "refused":
            verdict += f": {cb.endpoint_verdict_reason}"
        print(f"{cb.charge_box_id}\t{cb.registration_status}\t{cb.ocpp_version or '-'}\t"
              f"{seen}\t{cb.endpoint_address or '-'}\t{verdict}")
    return 0


def _expiry(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        return parse_timestamp(text)[0]
    except TimestampError as exc:
        raise CliError(f"--expiry: {exc} (use ISO 8601, e.g. 2027-01-31T23:59:59Z)",
                       EXIT_USAGE) from None


def cmd_tag_add(settings: Settings, args) -> int:
    values = tags.TagValues(parent_id_tag=args.parent, expiry_date=_expiry(args.expiry),
                            max_active_transactions=args.max_active, blocked=args.blocked,
                            note=args.note)
    try:
        with open_sessions(settings).begin() as db:
            tags.add_tag(db, args.id_tag, values)
    except Invalid as invalid:
        exists = "already exists" in invalid.problems.get("id_tag", "")
        error = _refused(invalid, {"id_tag": "IDTAG", "parent_id_tag": "--parent",
                                   "max_active_transactions": "--max-active",
                                   "note": "--note"})
        error.code = 1 if exists else EXIT_USAGE
        raise error from None
    print(f"added id tag {args.id_tag}")
    return 0


def cmd_tag_list(settings: Settings, args) -> int:
    with open_sessions(settings)() as db:
        rows = db.scalars(select(IdTag).order_by(IdTag.id_tag)).all()
    print("id_tag\tparent\texpiry\tmax_active\tblocked")
    for tag in rows:
        expiry = tag.expiry_date.isoformat() if tag.expiry_date else "-"
        print(f"{tag.id_tag}\t{tag.parent_id_tag or '-'}\t{expiry}\t"
              f"{tag.max_active_transactions}\t{'yes' if tag.blocked else 'no'}")
    return 0


def cmd_wsdl_export(settings: Settings, args) -> int:
    from soapgw.soap.wsdl import export_all
    directory = Path(args.directory)
    directory.mkdir(parents=True, exist_ok=True)
    for path in export_all(directory, base_url=args.base_url):
        print(path)
    return 0


def cmd_journal_purge(settings: Settings, args) -> int:
    removed = Housekeeper(open_sessions(settings), settings).purge_journal()
    print(f"removed {removed} journal entries past retention")
    return 0


def cmd_housekeep(settings: Settings, args) -> int:
    """Journal and event purges, the offline sweep: until SIGTERM (``soapgw serve`` runs it),
    or one round with --once (for cron)."""
    sessions = open_sessions(settings)
    housekeeper = Housekeeper(sessions, settings)
    if args.once:
        housekeeper.run_once()
        return 0
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    logging.basicConfig(stream=sys.stderr, level=logging.INFO,
                        format="soapgw housekeep: %(message)s")
    engine = sessions.kw["bind"]
    if is_sqlite_file(engine.url):
        WalCheckpointer(engine).start(stop)
    try:
        housekeeper.run(stop)
    except KeyboardInterrupt:
        pass
    return 0


# --- parser ----------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="soapgw", description="OCPP 1.5/1.6 SOAP central system")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve the gateway with gunicorn (foreground)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--workers", type=_at_least(1), default=2,
                       help="processes serving the stations, /services/ (with --sync: "
                            "serving everything; default 2)")
    modes = serve.add_mutually_exclusive_group()
    modes.add_argument("--buffered", action="store_true",
                       help="the default: each request is read whole before a worker thread "
                            "runs it (slow clients hold no worker), messages arriving together "
                            "share a database transaction, and the web UI and the API have "
                            "processes of their own, on the same port")
    modes.add_argument("--sync", action="store_true",
                       help="gunicorn's sync workers instead, one request at a time per "
                            "process, everything in one pool (soapgw before 2026-12)")
    serve.add_argument("--ui-workers", type=_at_least(0), default=None,
                       help="processes serving the web UI and the API (default 1; 0: the "
                            "stations' processes serve them too)")
    serve.add_argument("--threads", type=_at_least(1), default=None,
                       help="threads per worker process (default 8, soapgw.server.THREADS)")
    serve.add_argument("--stream-port", type=int, default=None,
                       help="port of the live event stream (default: --port + 1; 0: none)")
    serve.set_defaults(handler=cmd_serve)

    db = commands.add_parser("db", help="database schema").add_subparsers(dest="db", required=True)
    db.add_parser("upgrade", help="migrate to the latest schema").set_defaults(
        handler=cmd_db_upgrade)

    chargebox = commands.add_parser("chargebox", help="registered charge boxes").add_subparsers(
        dest="chargebox", required=True)
    add = chargebox.add_parser("add", help="register charge boxes by chargeBoxIdentity")
    add.add_argument("ids", nargs="+", metavar="ID")
    add.add_argument("--status", choices=stations.REGISTRATION_STATUSES, default="Accepted")
    add.set_defaults(handler=cmd_chargebox_add)
    chargebox.add_parser("list", help="list charge boxes").set_defaults(handler=cmd_chargebox_list)
    __import__("soapgw.station_auth_cli", fromlist=["register"]).register(chargebox)  # access

    tag = commands.add_parser("tag", help="OCPP id tags").add_subparsers(dest="tag", required=True)
    tag_add = tag.add_parser("add", help="add an id tag")
    tag_add.add_argument("id_tag", metavar="IDTAG")
    tag_add.add_argument("--parent")
    tag_add.add_argument("--expiry", help="ISO 8601 date and time (UTC when no zone)")
    tag_add.add_argument("--max-active", type=int, default=1,
                         help="active transactions allowed at once (0: no limit)")
    tag_add.add_argument("--blocked", action="store_true")
    tag_add.add_argument("--note")
    tag_add.set_defaults(handler=cmd_tag_add)
    tag.add_parser("list", help="list id tags").set_defaults(handler=cmd_tag_list)

    wsdl = commands.add_parser("wsdl", help="WSDL documents").add_subparsers(dest="wsdl",
                                                                            required=True)
    export = wsdl.add_parser("export", help="write our WSDLs into DIR")
    export.add_argument("directory", metavar="DIR")
    export.add_argument("--base-url", default="http://localhost:8080",
                        help="public URL written into the service addresses")
    export.set_defaults(handler=cmd_wsdl_export)

    journal = commands.add_parser("journal", help="message journal").add_subparsers(
        dest="journal", required=True)
    journal.add_parser("purge", help="delete entries past SOAPGW_JOURNAL_RETENTION_DAYS") \
        .set_defaults(handler=cmd_journal_purge)
    housekeep = commands.add_parser(
        "housekeep", help="purge the journal and events, mark silent stations offline "
                          "(soapgw serve runs it)")
    housekeep.add_argument("--once", action="store_true", help="one round, then exit")
    housekeep.set_defaults(handler=cmd_housekeep)
    cli_tasks.register(commands)  # call, tasks
    cli_upstream.register(commands)  # upstream, bridge
    cli_api.register(commands)  # token, webhook, dispatch, stream
    web_cli.register(commands)  # admin
    simulator_cli.register(commands)  # simulate
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env()
        return args.handler(settings, args)
    except ConfigError as exc:
        print(f"soapgw: configuration error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except CliError as exc:
        print(f"soapgw: {exc}", file=sys.stderr)
        return exc.code


