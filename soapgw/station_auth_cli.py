"""``soapgw chargebox networks|password|certificate|callback-policy|access``: who may speak
as a station (soapgw.core.station_credentials)."""
from __future__ import annotations

import getpass
import os
import sys

from soapgw.cli_support import EXIT_USAGE, CliError, open_sessions
from soapgw.config import Settings
from soapgw.core.station_credentials import (CredentialError, access_summary,
                                             set_callback_policy, set_certificate,
                                             set_networks, set_password)

PASSWORD_VARIABLE = "SOAPGW_STATION_PASSWORD"


def _run(settings: Settings, act):
    try:
        with open_sessions(settings).begin() as db:
            return act(db)
    except CredentialError as exc:
        raise CliError(str(exc), 2 if not str(exc).startswith("no charge box") else 1) from None


def cmd_networks(settings: Settings, args) -> int:
    if args.clear and args.cidrs:
        raise CliError("give CIDRs or --clear, not both", EXIT_USAGE)
    if not args.clear and not args.cidrs:
        summary = _run(settings, lambda db: access_summary(db, args.id))
        print(" ".join(str(n) for n in summary.networks) or
              "(none: the default SOAPGW_STATION_NETWORKS apply)")
        return 0
    networks = _run(settings, lambda db: set_networks(db, args.id, args.cidrs))
    print(f"{args.id} may speak from {', '.join(str(n) for n in networks)}" if networks else
          f"{args.id}: own networks cleared (the default SOAPGW_STATION_NETWORKS apply)")
    return 0


def _read_password() -> str:
    password = os.environ.get(PASSWORD_VARIABLE)
    if password is not None:
        return password
    if sys.stdin.isatty():
        password = getpass.getpass("Station password: ")
        if getpass.getpass("Station password again: ") != password:
            raise CliError("the passwords differ", EXIT_USAGE)
        return password
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise CliError(f"no password on stdin (or set {PASSWORD_VARIABLE})", EXIT_USAGE)
    return password


def cmd_password(settings: Settings, args) -> int:
    password = None if args.clear else _read_password()
    _run(settings, lambda db: set_password(db, args.id, password))
    print(f"{args.id}: password removed" if args.clear else
          f"{args.id}: password set (HTTP Basic, user {args.id})")
    return 0


def cmd_certificate(settings: Settings, args) -> int:
    if args.clear == bool(args.value):
        raise CliError("give the certificate's subject or fingerprint, or --clear", EXIT_USAGE)
    _run(settings, lambda db: set_certificate(db, args.id, None if args.clear else args.value))
    print(f"{args.id}: client certificate removed" if args.clear else
          f"{args.id}: client certificate {args.value.strip()}")
    return 0


def cmd_callback_policy(settings: Settings, args) -> int:
    _run(settings, lambda db: set_callback_policy(db, args.id, args.policy))
    print(f"{args.id}: callback policy {args.policy}")
    return 0


def cmd_access(settings: Settings, args) -> int:
    s = _run(settings, lambda db: access_summary(db, args.id))
    print(f"charge box\t{s.charge_box_id}\n"
          f"networks\t{' '.join(str(n) for n in s.networks) or '(default)'}\n"
          f"password\t{'set' if s.has_password else 'none'}\n"
          f"certificate\t{s.certificate or 'none'}\n"
          f"callback policy\t{s.callback_policy}\n"
          f"last address\t{s.last_peer_host or '-'}\n"
          f"refused\t{s.refusals}" + (f" (latest {s.refused_at.isoformat()}: {s.last_refusal})"
                                       if s.refused_at else ""))
    return 0


def register(chargebox) -> None:
    """Adds the commands to ``soapgw chargebox`` (its subparsers)."""
    networks = chargebox.add_parser("networks", help="source networks a station may speak from "
                                                     "(no CIDR: show them)")
    networks.add_argument("id", metavar="ID")
    networks.add_argument("cidrs", nargs="*", metavar="CIDR")
    networks.add_argument("--clear", action="store_true",
                          help="remove them (the default SOAPGW_STATION_NETWORKS apply)")
    networks.set_defaults(handler=cmd_networks)
    password = chargebox.add_parser(
        "password", help=f"HTTP Basic password of a station (from {PASSWORD_VARIABLE}, a "
                         "prompt or the first line of stdin)")
    password.add_argument("id", metavar="ID")
    password.add_argument("--clear", action="store_true", help="remove the password")
    password.set_defaults(handler=cmd_password)
    certificate = chargebox.add_parser(
        "certificate", help="client certificate subject or fingerprint of a station, as the "
                            "TLS proxy forwards it (SOAPGW_CLIENT_CERT_HEADER)")
    certificate.add_argument("id", metavar="ID")
    certificate.add_argument("value", nargs="?", metavar="SUBJECT_OR_FINGERPRINT")
    certificate.add_argument("--clear", action="store_true", help="remove it")
    certificate.set_defaults(handler=cmd_certificate)
    policy = chargebox.add_parser(
        "callback-policy", help="follow: the callback address follows the station's "
                                "announcements; keep: it never moves to another host by itself")
    policy.add_argument("id", metavar="ID")
    policy.add_argument("policy", choices=("follow", "keep"))
    policy.set_defaults(handler=cmd_callback_policy)
    access = chargebox.add_parser("access", help="a station's authentication settings and "
                                                 "refused messages")
    access.add_argument("id", metavar="ID")
    access.set_defaults(handler=cmd_access)
