"""The case store: what the workbench writes (users, sessions, tokens, case states, notes, the audit trail).

A database of its own, apart from the DuckDB store, so that the workbench and a batch run never wait for each
other's write lock: SQLite next to the store by default, a PostgreSQL URL for teams. SQLAlchemy Core speaks to
both; every write is a short transaction.
"""

from __future__ import annotations

from transforms.errors import ScamtraceError

import os
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

META = sa.MetaData()

USERS = sa.Table(
    "wb_users", META,
    sa.Column("name", sa.String(80), primary_key=True),
    sa.Column("role", sa.String(20), nullable=False),  # analyst | supervisor | admin
    sa.Column("password_hash", sa.Text),  # argon2id; NULL: token-only user
    sa.Column("disabled", sa.Boolean, nullable=False, default=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

TOKENS = sa.Table(
    "wb_tokens", META,
    sa.Column("token_hash", sa.String(64), primary_key=True),  # sha256 of the bearer token: the token is never kept
    sa.Column("user_name", sa.String(80), sa.ForeignKey("wb_users.name"), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

SESSIONS = sa.Table(
    "wb_sessions", META,
    sa.Column("session_hash", sa.String(64), primary_key=True),  # sha256 of the cookie value
    sa.Column("user_name", sa.String(80), sa.ForeignKey("wb_users.name"), nullable=False),
    sa.Column("csrf", sa.String(64), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
)

CASES = sa.Table(
    "wb_cases", META,
    sa.Column("case_id", sa.String(64), primary_key=True),  # an alert_id or a network_id
    sa.Column("kind", sa.String(10), nullable=False),  # alert | network
    sa.Column("subject_id", sa.String(200)),  # the alert's subject (the disposition's key); NULL for networks
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("assignee", sa.String(80)),
    sa.Column("assigned_at", sa.DateTime(timezone=True)),
    sa.Column("due_at", sa.DateTime(timezone=True)),
    sa.Column("decided_by", sa.String(80)),
    sa.Column("decided_at", sa.DateTime(timezone=True)),
    sa.Column("disposition", sa.String(20)),  # confirmed | false_positive | inconclusive (the learning labels)
    sa.Column("approved_by", sa.String(80)),
    sa.Column("approved_at", sa.DateTime(timezone=True)),
    sa.Column("approved_fingerprint", sa.String(64)),  # the evidence approved (alerts.evidence_hash / networks.core_hash)
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("wb_cases_status", "status"),
    sa.Index("wb_cases_assignee", "assignee"),
)

NOTES = sa.Table(
    "wb_notes", META,
    sa.Column("note_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("case_id", sa.String(64), nullable=False, index=True),
    sa.Column("author", sa.String(80), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
)

# Every decision with its time: the dispositions the next batch run learns from (the case row holds the latest).
DECISIONS = sa.Table(
    "wb_decisions", META,
    sa.Column("decision_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("case_id", sa.String(64), nullable=False, index=True),
    sa.Column("subject_id", sa.String(200)),
    sa.Column("disposition", sa.String(20), nullable=False),
    sa.Column("decided_by", sa.String(80), nullable=False),
    sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("note", sa.Text),
)

AUDIT = sa.Table(
    "wb_audit", META,
    sa.Column("seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=False),
    sa.Column("at", sa.String(40), nullable=False),  # ISO 8601 UTC text: hashed exactly as stored
    sa.Column("user_name", sa.String(80)),
    sa.Column("action", sa.String(40), nullable=False),
    sa.Column("object", sa.String(300)),
    sa.Column("detail", sa.Text),  # JSON
    sa.Column("client", sa.String(100)),  # the client's address as the server saw it
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
)

# The chain's last seq and hash, kept apart so that removing the newest entries is detected too.
AUDIT_HEAD = sa.Table(
    "wb_audit_head", META,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
)


def utc(t):
    """A time read back from the case store, as UTC: SQLite keeps no zone, so its times come back naive."""
    from datetime import timezone

    return t.replace(tzinfo=timezone.utc) if t is not None and t.tzinfo is None else t


class CaseStoreError(ScamtraceError):
    """A case store that cannot be opened: the message says which and what to do."""


def default_url(db_path: Path | str) -> str:
    """$SCAMTRACE_CASES, else a SQLite file beside the store: scamtrace.duckdb -> scamtrace.cases.sqlite."""
    env = os.environ.get("SCAMTRACE_CASES")
    if env:
        return env
    p = Path(db_path)
    return f"sqlite:///{p.with_name(p.stem + '.cases.sqlite').resolve()}"


def exists(url: str) -> bool:
    """Whether a case store has been made at url (a SQLite file that is there; a server is asked). A server that
    cannot be reached is an error, not "no case store": the batch must not run past the decisions made there."""
    if url.startswith("sqlite:///"):
        return Path(url.removeprefix("sqlite:///")).exists()
    try:
        return sa.inspect(engine(url, create=False)).has_table("wb_cases")
    except sa.exc.SQLAlchemyError as exc:
        raise CaseStoreError(f"case store {redact(url)}: cannot reach it ({_first(exc)}); "
                             "check --cases / $SCAMTRACE_CASES") from None


def _first(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


_ENGINES: dict[str, Engine] = {}
_CREATED: set[str] = set()


def engine(url: str, create: bool = True) -> Engine:
    """The engine for url, tables made on first use. SQLite: WAL journal and a busy timeout, so that readers never
    block the writer and two writers queue for a few seconds instead of failing."""
    if url in _ENGINES:
        if create and url not in _CREATED:  # first asked for by exists(), which makes no tables
            META.create_all(_ENGINES[url])
            _CREATED.add(url)
        return _ENGINES[url]
    if url.startswith("postgresql://"):
        url_driver = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    else:
        url_driver = url
    try:
        if url.startswith("sqlite:///"):
            path = Path(url.removeprefix("sqlite:///"))
            if not create and not path.exists():
                raise CaseStoreError(f"no case store at {path}")
            path.parent.mkdir(parents=True, exist_ok=True)
            new = not path.exists()
            eng = sa.create_engine(url_driver, connect_args={"timeout": 10})

            @sa.event.listens_for(eng, "connect")
            def _pragmas(dbapi_con, _record) -> None:
                dbapi_con.isolation_level = None  # the driver opens no transaction itself: _begin below does
                dbapi_con.execute("PRAGMA journal_mode=WAL")
                dbapi_con.execute("PRAGMA foreign_keys=ON")

            @sa.event.listens_for(eng, "begin")
            def _begin(conn) -> None:
                # A write takes SQLite's write lock before it reads, so what it read cannot change before it writes
                # (two approvals, a decision and a due date, two "take it" on the same case are serialised).
                conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("write") else "BEGIN")

            if new:
                path.touch(mode=0o600)  # holds who looked at whose personal data: owner-only
        else:
            eng = sa.create_engine(url_driver, pool_pre_ping=True)
        if create:
            META.create_all(eng)
            _CREATED.add(url)
    except CaseStoreError:
        raise
    except (sa.exc.SQLAlchemyError, OSError, ImportError) as exc:
        raise CaseStoreError(f"case store {redact(url)}: cannot open it ({_first(exc)}); check --cases / $SCAMTRACE_CASES") from None
    _ENGINES[url] = eng
    return eng


def redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return url


def write(eng: Engine, fn, attempts: int = 20):
    """Run fn(conn) in one transaction that sees no concurrent change to what it read: SQLite takes its write lock
    first (BEGIN IMMEDIATE), PostgreSQL runs it SERIALIZABLE. A conflict (a serialisation failure, a lock that
    stayed busy, another writer taking the same audit seq) rolls back and runs it again; fn must be safe to
    repeat. Any other database error is raised at once."""
    import random
    import time

    options = {"isolation_level": "SERIALIZABLE"} if eng.dialect.name == "postgresql" else {"write": True}
    for i in range(attempts):
        try:
            with eng.connect() as conn:
                conn = conn.execution_options(**options)
                with conn.begin():
                    return fn(conn)
        except (sa.exc.IntegrityError, sa.exc.OperationalError) as exc:
            if not _is_conflict(exc) or i == attempts - 1:
                raise
            time.sleep(0.01 + random.random() * 0.05 * (i + 1))
    raise AssertionError("unreachable")


def _is_conflict(exc: Exception) -> bool:
    text = str(exc).lower()
    return any(k in text for k in ("unique", "duplicate key", "primary key", "audit head", "database is locked",
                                   "could not serialize", "deadlock detected", "busy"))
