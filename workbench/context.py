"""The workbench's shared state: the case store, the serving snapshot, who is asking, and the case behind an id."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import sqlalchemy as sa
from starlette.requests import Request

from workbench import audit, casestore, queries, users, workflow
from workbench.casestore import CASES
from workbench.security import SESSION_COOKIE, LoginLimiter, same
from workbench.serving import Serving
from workbench.users import User


def fingerprint(kind: str, row: dict) -> str | None:
    """What a supervisor approves: the alert's evidence set, or the network's core (their hashes)."""
    return row.get("evidence_hash") if kind == "alert" else row.get("core_hash")


class NotLoggedIn(Exception):
    pass


@dataclass
class Caller:
    user: User
    csrf: str | None  # the session's CSRF token; None for a bearer token (no cookie, no CSRF risk)
    client: str


class Workbench:
    def __init__(self, db_path: Path | str, cases_url: str, secure_cookies: bool = True):
        self.db_path = db_path
        self.cases_url = cases_url
        self.eng = casestore.engine(cases_url)
        self.serving = Serving(db_path)
        self.secure_cookies = secure_cookies
        self.limiter = LoginLimiter()
        self._cache_lock = threading.Lock()
        self._cache: tuple[tuple, pa.Table] | None = None

    # -- who is asking -------------------------------------------------------------------------------------------
    def caller(self, request: Request) -> Caller:
        client = request.client.host if request.client else "-"
        auth = request.headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            user = users.by_token(self.eng, auth[7:].strip())
            if user:
                return Caller(user, None, client)
            raise NotLoggedIn()
        cookie = request.cookies.get(SESSION_COOKIE)
        found = users.by_session(self.eng, cookie) if cookie else None
        if not found:
            raise NotLoggedIn()
        return Caller(found[0], found[1], client)

    def csrf_ok(self, caller: Caller, token: str | None) -> bool:
        return caller.csrf is None or same(caller.csrf, token)

    # -- case states -------------------------------------------------------------------------------------------
    def case_table(self) -> pa.Table:
        """Every touched case as an Arrow table, cached until a case changes (count and last update)."""
        with self.eng.connect() as conn:
            mark = tuple(conn.execute(sa.select(sa.func.count(), sa.func.max(CASES.c.updated_at))).one())
        with self._cache_lock:
            if self._cache and self._cache[0] == mark:
                return self._cache[1]
        table = queries.case_table(workflow.cases(self.eng))
        with self._cache_lock:
            self._cache = (mark, table)
        return table

    def viewed_alert(self, caller: Caller, alert_id: str) -> tuple[duckdb.DuckDBPyConnection, dict, list[dict], int]:
        """(cursor, alert, evidence rows, evidence total) of an alert the caller opens; the view is audited."""
        cur = self.serving.cursor()
        a = queries.alert(cur, alert_id)
        if a is None:
            raise workflow.NotFound(f"no alert {alert_id}")
        ev, n = queries.evidence(cur, alert_id)
        audit.log(self.eng, caller.user.name, "view_alert", alert_id, None, caller.client)
        return cur, a, ev, n

    def viewed_network(self, caller: Caller, network_id: str, action: str = "view_network") -> tuple[duckdb.DuckDBPyConnection, dict]:
        """(cursor, network) of a network the caller opens; the view is audited."""
        cur = self.serving.cursor()
        n = queries.network(cur, network_id)
        if n is None:
            raise workflow.NotFound(f"no network {network_id}")
        audit.log(self.eng, caller.user.name, action, network_id, None, caller.client)
        return cur, n

    def target(self, cur, case_id: str) -> tuple[str, str | None, dict]:
        """(kind, subject_id, row) of an alert or network id in the serving snapshot; KeyError when unknown."""
        a = queries.alert(cur, case_id)
        if a:
            return "alert", a["subject_id"], a
        n = queries.network(cur, case_id)
        if n:
            return "network", None, n
        raise KeyError(case_id)
