"""Workbench users: argon2id password hashes, bearer tokens for the JSON API, server-side sessions."""

from __future__ import annotations

from transforms.errors import ScamtraceError

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.engine import Engine

from workbench import audit
from workbench.casestore import SESSIONS, TOKENS, USERS, write

ROLES = ("analyst", "supervisor", "admin")
SESSION_HOURS = 8  # a working day; the analyst logs in again after it
_HASHER = PasswordHasher()


class UserError(ScamtraceError):
    """A user command that cannot be done: the message says why."""


@dataclass(frozen=True)
class User:
    name: str
    role: str

    @property
    def is_supervisor(self) -> bool:
        return self.role == "supervisor"

    @property
    def can_audit(self) -> bool:
        return self.role in ("supervisor", "admin")


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _now() -> datetime:
    return datetime.now(timezone.utc)


def add(eng: Engine, name: str, role: str, password: str | None, by: str = "cli") -> None:
    name = name.strip()
    if not name or len(name) > 80 or any(c.isspace() for c in name):
        raise UserError(f"user name {name!r}: use 1 to 80 characters without spaces")
    if role not in ROLES:
        raise UserError(f"role {role!r}: use one of {', '.join(ROLES)}")
    if password is not None and len(password) < 10:
        raise UserError("password: use at least 10 characters")
    hashed = _HASHER.hash(password) if password else None

    def body(conn):
        if conn.execute(sa.select(USERS.c.name).where(USERS.c.name == name)).first():
            raise UserError(f"user {name} exists already: disable it, or choose another name")
        conn.execute(USERS.insert().values(name=name, role=role, password_hash=hashed, disabled=False, created_at=_now()))
        audit.append(conn, by, "user_add", name, {"role": role})

    write(eng, body)


def disable(eng: Engine, name: str, by: str = "cli") -> None:
    def body(conn):
        if conn.execute(USERS.update().where(USERS.c.name == name).values(disabled=True)).rowcount != 1:
            raise UserError(f"no user {name}: `scamtrace users list` shows them")
        conn.execute(SESSIONS.delete().where(SESSIONS.c.user_name == name))
        conn.execute(TOKENS.delete().where(TOKENS.c.user_name == name))
        audit.append(conn, by, "user_disable", name)

    write(eng, body)


def new_token(eng: Engine, name: str, by: str = "cli") -> str:
    """A new bearer token for the JSON API; only its hash is kept, so it is shown once."""
    token = "st_" + secrets.token_urlsafe(32)

    def body(conn):
        row = conn.execute(sa.select(USERS.c.disabled).where(USERS.c.name == name)).first()
        if row is None or row[0]:
            raise UserError(f"no active user {name}: add it first with `scamtrace users add`")
        conn.execute(TOKENS.insert().values(token_hash=_sha(token), user_name=name, created_at=_now()))
        audit.append(conn, by, "token_issue", name)

    write(eng, body)
    return token


def listing(eng: Engine) -> list[dict]:
    with eng.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(
            sa.select(USERS.c.name, USERS.c.role, USERS.c.disabled, USERS.c.created_at).order_by(USERS.c.name))]


def _active(conn, name: str) -> User | None:
    row = conn.execute(sa.select(USERS.c.name, USERS.c.role, USERS.c.disabled).where(USERS.c.name == name)).first()
    return User(row.name, row.role) if row and not row.disabled else None


def check_password(eng: Engine, name: str, password: str) -> User | None:
    with eng.connect() as conn:
        row = conn.execute(sa.select(USERS).where(USERS.c.name == name)).first()
    if row is None or row.disabled or not row.password_hash:
        _HASHER.hash(password)  # the same work for an unknown name: no timing hint that the name exists
        return None
    try:
        _HASHER.verify(row.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    return User(row.name, row.role)


def by_token(eng: Engine, token: str) -> User | None:
    with eng.connect() as conn:
        row = conn.execute(sa.select(TOKENS.c.user_name).where(TOKENS.c.token_hash == _sha(token))).first()
        return _active(conn, row[0]) if row else None


def open_session(eng: Engine, user: User) -> tuple[str, str]:
    """(cookie value, csrf token) of a new session."""
    cookie, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    write(eng, lambda conn: conn.execute(SESSIONS.insert().values(
        session_hash=_sha(cookie), user_name=user.name, csrf=csrf, expires_at=_now() + timedelta(hours=SESSION_HOURS))))
    return cookie, csrf


def by_session(eng: Engine, cookie: str) -> tuple[User, str] | None:
    """(user, csrf token) of a live session."""
    with eng.connect() as conn:
        row = conn.execute(sa.select(SESSIONS).where(SESSIONS.c.session_hash == _sha(cookie))).first()
        if row is None:
            return None
        expires = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=timezone.utc)
        if expires < _now():
            return None
        user = _active(conn, row.user_name)
    return (user, row.csrf) if user else None


def close_session(eng: Engine, cookie: str) -> None:
    write(eng, lambda conn: conn.execute(SESSIONS.delete().where(SESSIONS.c.session_hash == _sha(cookie))))
