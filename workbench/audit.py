"""The audit trail: every view of personal data and every decision, append-only and hash-chained.

Each entry's hash covers its own fields and the previous entry's hash; the head (last seq and hash) is kept in a
row of its own. `verify` recomputes the chain: an edited, removed or inserted entry breaks it at that seq. Someone
who can write the database could recompute every later hash and the head too: the head that `verify` prints is
meant to be kept outside the database (a ticket, a log server), where such a rewrite shows.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from workbench.casestore import AUDIT, AUDIT_HEAD

GENESIS = "0" * 64


def entry_hash(seq: int, at: str, user: str | None, action: str, obj: str | None, detail: str | None,
               client: str | None, prev_hash: str) -> str:
    payload = json.dumps([seq, at, user, action, obj, detail, client, prev_hash], ensure_ascii=False,
                         separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def append(conn: Connection, user: str | None, action: str, obj: str | None = None, detail: dict | None = None,
           client: str | None = None) -> int:
    """Add one entry inside the caller's transaction (casestore.write retries it when another writer took the
    same seq). Returns its seq."""
    head = conn.execute(sa.select(AUDIT_HEAD.c.seq, AUDIT_HEAD.c.hash).where(AUDIT_HEAD.c.id == 1)).first()
    seq, prev = (head[0] + 1, head[1]) if head else (1, GENESIS)
    user, obj, client = (user or None) and user[:80], (obj or None) and obj[:300], (client or None) and client[:100]
    at = datetime.now(timezone.utc).isoformat(timespec="microseconds")
    text = json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str) if detail else None
    h = entry_hash(seq, at, user, action, obj, text, client, prev)
    conn.execute(AUDIT.insert().values(seq=seq, at=at, user_name=user, action=action, object=obj, detail=text,
                                       client=client, prev_hash=prev, hash=h))
    if head:
        moved = conn.execute(AUDIT_HEAD.update().where(AUDIT_HEAD.c.id == 1, AUDIT_HEAD.c.seq == seq - 1)
                             .values(seq=seq, hash=h)).rowcount
        if moved != 1:  # another writer moved the head first: the caller's transaction is retried
            raise sa.exc.IntegrityError("audit head moved", None, Exception("unique: audit head"))
    else:
        conn.execute(AUDIT_HEAD.insert().values(id=1, seq=seq, hash=h))
    return seq


def log(eng: Engine, user: str | None, action: str, obj: str | None = None, detail: dict | None = None,
        client: str | None = None) -> int:
    """One entry in a transaction of its own (views, logins)."""
    from workbench.casestore import write

    return write(eng, lambda conn: append(conn, user, action, obj, detail, client))


def entries(eng: Engine, limit: int = 100, offset: int = 0, user: str | None = None) -> tuple[list[dict], int]:
    q = sa.select(AUDIT).order_by(AUDIT.c.seq.desc())
    n = sa.select(sa.func.count()).select_from(AUDIT)
    if user:
        q, n = q.where(AUDIT.c.user_name == user), n.where(AUDIT.c.user_name == user)
    with eng.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(q.limit(limit).offset(offset))]
        total = conn.execute(n).scalar_one()
    return rows, int(total)


def verify(eng: Engine) -> tuple[bool, str, int]:
    """(ok, message, entries checked). The message names the first broken seq and what is wrong with it."""
    prev, expected, n = GENESIS, 1, 0
    with eng.connect() as conn:
        head = conn.execute(sa.select(AUDIT_HEAD.c.seq, AUDIT_HEAD.c.hash).where(AUDIT_HEAD.c.id == 1)).first()
        for r in conn.execute(sa.select(AUDIT).order_by(AUDIT.c.seq)).yield_per(10_000):
            if r.seq != expected:
                return False, f"audit entry {expected} is missing (the next entry is {r.seq})", n
            if r.prev_hash != prev:
                return False, f"audit entry {r.seq} does not follow entry {r.seq - 1} (its previous hash differs)", n
            if entry_hash(r.seq, r.at, r.user_name, r.action, r.object, r.detail, r.client, r.prev_hash) != r.hash:
                return False, f"audit entry {r.seq} was changed after it was written (its hash does not match)", n
            prev, expected, n = r.hash, expected + 1, n + 1
    if head is None:
        return (True, "audit trail is empty", 0) if n == 0 else (False, "the audit head is missing", n)
    if head.seq != n or head.hash != prev:
        return False, (f"the audit trail ends at entry {n} but its head says {head.seq}: "
                       "entries were removed from the end, or the head was changed"), n
    return True, f"audit trail intact: {n} entries, head {prev}", n
