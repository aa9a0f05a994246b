"""Web UI accounts: who may sign in. Creating one and changing its password are one function
each, with the rules every edge shows (user name 1 to 80 printable characters, the password
rules of core.passwords); a changed password ends the account's sessions everywhere."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from soapgw.core.errors import Invalid, NotFound
from soapgw.core.passwords import hash_password, password_problem
from soapgw.core.sign_in import end_sessions
from soapgw.store.models import AdminUser
from soapgw.timestamps import now


def user_name(raw: str) -> str:
    """The user name as stored, or Invalid."""
    name = (raw or "").strip()
    if not name or len(name) > 80 or any(ord(c) < 32 for c in name):
        raise Invalid({"username": "the user name must have 1 to 80 printable characters"})
    return name


def check_password(password: str) -> None:
    problem = password_problem(password)
    if problem:
        raise Invalid({"password": problem})


def exists(db: Session, username: str) -> bool:
    return db.scalar(select(AdminUser.id).where(AdminUser.username == username)) is not None


def create_account(db: Session, username: str, password: str) -> AdminUser:
    name = user_name(username)
    if exists(db, name):
        raise Invalid({"username": f"user {name!r} exists already"})
    check_password(password)
    user = AdminUser(username=name, password_hash=hash_password(password), created_at=now())
    db.add(user)
    db.flush()
    return user


def set_password(db: Session, username: str, password: str) -> None:
    """A new password; the account's signed-in sessions end (every browser signs in again)."""
    name = user_name(username)
    user = db.scalars(select(AdminUser).where(AdminUser.username == name)).one_or_none()
    if user is None:
        raise NotFound(f"no user {name!r}")
    check_password(password)
    user.password_hash = hash_password(password)
    end_sessions(db, user.id)
