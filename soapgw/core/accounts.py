"""Web UI accounts: who may sign in. Creating one, changing its password, disabling and
enabling it are one function each, with the rules every edge shows (user name 1 to 80
printable characters, the password rules of core.passwords); a changed password or a
disabled account ends the account's sessions everywhere. Every account is an admin: nobody
may disable their own account, nor the last enabled one (the UI would lock everyone out)."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from soapgw.core.errors import Conflict, Invalid, NotFound
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


def listed(db: Session) -> list[AdminUser]:
    return list(db.scalars(select(AdminUser).order_by(AdminUser.username)))


def account(db: Session, user_id: int) -> AdminUser:
    user = db.get(AdminUser, user_id)
    if user is None:
        raise NotFound(f"no user {user_id}")
    return user


def by_name(db: Session, username: str) -> AdminUser:
    name = user_name(username)
    user = db.scalars(select(AdminUser).where(AdminUser.username == name)).one_or_none()
    if user is None:
        raise NotFound(f"no user {name!r}")
    return user


def reset_password(db: Session, user_id: int, password: str) -> AdminUser:
    """An admin sets another account's password (or their own); its sessions end."""
    user = account(db, user_id)
    check_password(password)
    user.password_hash = hash_password(password)
    end_sessions(db, user.id)
    return user


def disable(db: Session, user_id: int, acting_user_id: int | None = None) -> AdminUser:
    """The account can no longer sign in and its sessions end. ``acting_user_id`` is who asks
    (None: the server's operator, from the command line)."""
    user = account(db, user_id)
    if user.disabled_at is not None:
        return user
    if user.id == acting_user_id:
        raise Conflict("you cannot disable your own account: ask another admin")
    enabled = db.scalar(select(func.count(AdminUser.id)).where(AdminUser.disabled_at.is_(None)))
    if enabled <= 1:
        raise Conflict(f"{user.username} is the last enabled account: create or enable "
                       "another one first")
    user.disabled_at = now()
    end_sessions(db, user.id)
    return user


def enable(db: Session, user_id: int) -> AdminUser:
    user = account(db, user_id)
    user.disabled_at = None
    return user
