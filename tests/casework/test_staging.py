"""The temp tables that pass a casework build between modules are declared in rules/casework/staging.py, and a
build leaves the declared columns."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

from rules.casework.staging import STAGED

CASEWORK = Path(__file__).resolve().parents[2] / "rules" / "casework"


def test_every_table_shared_between_modules_is_declared():
    users: dict[str, set[str]] = defaultdict(set)
    for path in CASEWORK.glob("*.py"):
        if path.name in ("staging.py", "stages.py"):  # the declaration, and the driver that drops them
            continue
        for name in set(re.findall(r"\b_cw_[a-z_]+\b", path.read_text())):
            users[name].add(path.stem)
    shared = {t: sorted(m) for t, m in users.items() if len(m) > 1}
    assert shared, "the scan found no shared staging table"
    undeclared = {t: m for t, m in shared.items() if t not in STAGED}
    assert not undeclared, f"declare these in rules/casework/staging.py: {undeclared}"
    for table, spec in STAGED.items():
        assert spec.producer in users.get(table, set()) or table == "_cw_alert_network", (table, spec.producer)


def test_a_build_leaves_the_declared_columns(case, monkeypatch):
    """Just before the networks are stored, every declared table has its columns (then the build drops them)."""
    import rules.casework.networks as N
    from tests.casework.casebook import make_world, raise_alerts

    seen: dict[str, list[str]] = {}
    store = N.store_networks

    def spy(con, *args, **kwargs):
        for table in STAGED:
            seen[table] = [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()]
        return store(con, *args, **kwargs)

    monkeypatch.setattr(N, "store_networks", spy)
    w = make_world(case)
    raise_alerts(case, "run-1", w)
    case.build("run-1")
    assert set(seen) == set(STAGED)
    for table, spec in STAGED.items():
        assert set(spec.columns) <= set(seen[table]), (table, sorted(set(spec.columns) - set(seen[table])))
    left = {r[0] for r in case.con.execute("SELECT table_name FROM duckdb_tables() WHERE temporary").fetchall()}
    assert not {t for t in left if t.startswith("_cw_")}, left  # the build cleans up after itself
