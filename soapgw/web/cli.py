"""``soapgw admin``: web UI accounts. The password comes from SOAPGW_ADMIN_PASSWORD or a prompt."""
from __future__ import annotations

import getpass
import os
import sys

from sqlalchemy import select

from soapgw.cli_support import EXIT_USAGE, CliError, open_sessions
from soapgw.config import Settings
from soapgw.core.sign_in import end_sessions
from soapgw.timestamps import now
from soapgw.store.models import AdminUser
from soapgw.web.security import hash_password, password_problem

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
    problem = password_problem(password)
    if problem:
        raise CliError(problem, EXIT_USAGE)
    return password


def _username(raw: str) -> str:
    name = raw.strip()
    if not name or len(name) > 80 or any(ord(c) < 32 for c in name):
        raise CliError("the user name must have 1 to 80 printable characters", EXIT_USAGE)
    return name


def cmd_admin_create(settings: Settings, args) -> int:
    name = _username(args.username)
    sessions = open_sessions(settings)
    with sessions() as db:
        if db.scalar(select(AdminUser.id).where(AdminUser.username == name)) is not None:
            raise CliError(f"user {name!r} exists already (use `soapgw admin password`)")
    password = _password()
    with sessions.begin() as db:
        db.add(AdminUser(username=name, password_hash=hash_password(password),
                         created_at=now()))
    print(f"created admin user {name}")
    return 0


def cmd_admin_password(settings: Settings, args) -> int:
    name = _username(args.username)
    sessions = open_sessions(settings)
    with sessions() as db:
        if db.scalar(select(AdminUser.id).where(AdminUser.username == name)) is None:
            raise CliError(f"no user {name!r}")
    password = _password()
    with sessions.begin() as db:
        user = db.scalars(select(AdminUser).where(AdminUser.username == name)).one()
        user.password_hash = hash_password(password)
        end_sessions(db, user.id)  # signed-in browsers must sign in with the new one
    print(f"changed the password of {name}; its sessions are ended")
    return 0


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
