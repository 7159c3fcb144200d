"""Tiny literal worlds for rule tests: rows go into a real DuckDB store (transforms.store.connect) and the
real rule SQL runs through the engine. Times are hours after T0."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from rules.engine import detect
from tests.world import RowBuffer
from transforms.store import connect

T0 = datetime(2024, 3, 1, tzinfo=timezone.utc)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


class World:
    def __init__(self, tmp_path: Path):
        self.tmp = tmp_path
        self._con = connect(tmp_path / "store.duckdb")
        self._rows = RowBuffer()
        self._n = 0

    @property
    def con(self):
        """The store, with every row added so far in it."""
        self._rows.flush(self._con)
        return self._con

    def txn(self, frm: str, to: str, usd: float, hours: float, *, channel: str = "transfer", rail: str = "bank",
            currency: str = "USD", amount: float | None = None, txn_id: str | None = None) -> str:
        self._n += 1
        tid = txn_id or f"t{self._n:04d}"
        self._rows.add("transactions", txn_id=tid, source_txn_id=tid, rail=rail, booked_at=at(hours),
                   from_account_id=frm, to_account_id=to, amount=Decimal(str(amount if amount is not None else usd)),
                   currency=currency, amount_usd=Decimal(str(usd)), channel=channel, row_no=self._n)
        return tid

    def regulars(self, n: int = 40, months: int = 4) -> None:
        """Ordinary accounts A0..A{n-1} paying each other month after month: each is seen many times, each pays
        and receives (the background of the rules about accounts seen once)."""
        for month in range(months):
            for i in range(n):
                self.txn(f"A{i}", f"A{(i + 1) % n}", 50, month * 30 * 24 + i)

    def account(self, account_id: str, *, kind: str = "customer", opened_hours: float = -24 * 365,
                holder_id: str | None = None, rail: str = "bank", country: str | None = None) -> None:
        self._rows.add("accounts", account_id=account_id, rail=rail, holder_id=holder_id,
                   opened_at=at(opened_hours), kind=kind, country=country)

    def event(self, account_id: str | None, hours: float, *, kind: str = "login", ip: str | None = None,
              device_id: str | None = None, phone: str | None = None, party_id: str | None = None) -> None:
        self._n += 1
        self._rows.add("events", event_id=f"e{self._n}", account_id=account_id, party_id=party_id,
                   occurred_at=at(hours), kind=kind, ip=ip, device_id=device_id, phone=phone)

    def party(self, party_id: str, *, phone: str | None = None, email: str | None = None, address: str | None = None,
              name: str | None = None) -> None:
        self._rows.add("parties", party_id=party_id, party_type="person", name=name or party_id, phone=phone,
                   email=email, address=address)

    def compound(self, compound_id: str, *, wallets: list[str] = (), accounts: list[str] = (),
                 ip_cidrs: list[str] = ()) -> None:
        self._rows.add("compounds", compound_id=compound_id, name=compound_id, wallets=list(wallets),
                   accounts=list(accounts), ip_cidrs=list(ip_cidrs), confidence=0.9)

    def config(self, data: dict, name: str = "deploy.yml") -> Path:
        path = self.tmp / name
        path.write_text(yaml.safe_dump(data))
        return path

    def run(self, rule_id: str, *, config: dict | None = None, **params):
        """Run one rule (params override its defaults through a config file); return (summary, hits)."""
        cfg = dict(config or {})
        if params:
            cfg.setdefault("rules", {}).setdefault(rule_id, {}).setdefault("parameters", {}).update(params)
        path = self.config(cfg) if cfg else None
        summary = detect(self.con, config_path=path, only=[rule_id])
        rows = self.con.execute(
            "SELECT subject_id, measured_value, band, score, reason, txn_ids, member_ids, evidence"
            " FROM rule_hits WHERE run_id = ? AND rule_id = ? ORDER BY subject_id",
            [summary.run_id, rule_id],
        ).fetchall()
        keys = ("subject_id", "value", "band", "score", "reason", "txn_ids", "member_ids", "evidence")
        hits = {r[0]: dict(zip(keys, r)) for r in rows}
        rr = next(r for r in summary.rules if r.rule_id == rule_id)
        assert rr.status in ("ok", "skipped"), rr.note
        return rr, hits


@pytest.fixture
def world(tmp_path: Path) -> World:
    w = World(tmp_path)
    yield w
    w.con.close()
