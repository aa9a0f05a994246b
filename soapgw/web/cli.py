"""``soapgw admin``: web UI accounts. The password comes from SOAPGW_ADMIN_PASSWORD or a prompt."""
from __future__ import annotations

import getpass
import os
import sys

from soapgw.cli_support import EXIT_USAGE, CliError, open_sessions
from soapgw.config import Settings
from soapgw.core import accounts
from soapgw.core.errors import Conflict, Invalid, NotFound

PASSWORD_VARIABLE = "SOAPGW_ADMIN_PASSWORD"


def _password() -> str:
    password = os.environ.get(PASSWORD_VARIABLE)
    if password is None:
        if not sys.stdin.isatty():
            raise CliError(f"no terminal to ask for the password: set {PASSWORD_VARIABLE}",
                           EXIT_USAGE)
        password = getpass.getpass("Password: ")
        if getpass.getpass("Password again: ") != password:
            raise CliError("the passwords differ", EXIT_USAGE)
    return password


def _checked_name(raw: str) -> str:
    try:
        return accounts.user_name(raw)
    except Invalid as invalid:
        raise CliError(invalid.problems["username"], EXIT_USAGE) from None


def cmd_admin_create(settings: Settings, args) -> int:
    name = _checked_name(args.username)
    sessions = open_sessions(settings)
    with sessions() as db:
        if accounts.exists(db, name):  # before asking for a password in vain
            raise CliError(f"user {name!r} exists already (use `soapgw admin password`)")
    password = _password()
    try:
        with sessions.begin() as db:
            accounts.create_account(db, name, password)
    except Invalid as invalid:
        code = 1 if "username" in invalid.problems else EXIT_USAGE
        raise CliError("; ".join(invalid.problems.values()), code) from None
    print(f"created admin user {name}")
    return 0


def cmd_admin_password(settings: Settings, args) -> int:
    name = _checked_name(args.username)
    sessions = open_sessions(settings)
    with sessions() as db:
        if not accounts.exists(db, name):
            raise CliError(f"no user {name!r}")
    password = _password()
    try:
        with sessions.begin() as db:
            accounts.set_password(db, name, password)
    except Invalid as invalid:
        raise CliError("; ".join(invalid.problems.values()), EXIT_USAGE) from None
    except NotFound as missing:
        raise CliError(str(missing)) from None
    print(f"changed the password of {name}; its sessions are ended")
    return 0


def cmd_admin_list(settings: Settings, args) -> int:
    with open_sessions(settings)() as db:
        for user in accounts.listed(db):
            state = "disabled" if user.disabled_at else "enabled"
            last = user.last_login_at.isoformat() if user.last_login_at else "never"
            print(f"{user.username}\t{state}\tlast sign-in {last}")
    return 0


def _switch(settings: Settings, username: str, act, done: str) -> int:
    name = _checked_name(username)
    try:
        with open_sessions(settings).begin() as db:
            act(db, accounts.by_name(db, name).id)
    except (NotFound, Conflict) as refused:
        raise CliError(str(refused)) from None
    print(f"{name} {done}")
    return 0


def cmd_admin_disable(settings: Settings, args) -> int:
    return _switch(settings, args.username, accounts.disable,
                   "disabled: it cannot sign in, its sessions are ended")


def cmd_admin_enable(settings: Settings, args) -> int:
    return _switch(settings, args.username, accounts.enable, "enabled")


def register(subparsers) -> None:
    admin = subparsers.add_parser("admin", help="web UI accounts").add_subparsers(
        dest="admin", required=True)
    create = admin.add_parser("create", help=f"add a user (password: prompt or "
                                             f"{PASSWORD_VARIABLE})")
    create.add_argument("username", metavar="USER")
    create.set_defaults(handler=cmd_admin_create)
    password = admin.add_parser("password", help="set a user's password")
    password.add_argument("username", metavar="USER")
    password.set_defaults(handler=cmd_admin_password)
    admin.add_parser("list", help="the users and their state").set_defaults(
        handler=cmd_admin_list)
    for name, handler, text in (("disable", cmd_admin_disable, "stop a user signing in"),
                                ("enable", cmd_admin_enable, "let a disabled user sign in")):
        sub = admin.add_parser(name, help=text)
        sub.add_argument("username", metavar="USER")
        sub.set_defaults(handler=handler)
