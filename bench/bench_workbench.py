"""Time the workbench's alert queue with many alerts: the JSON API and the HTML page over real HTTP.

    python bench/bench_workbench.py                 # 100,000 alerts, 10,000 of them touched by analysts
    python bench/bench_workbench.py --alerts 300000 --touched 50000 --cases postgresql://...

A scratch store gets N alerts (typologies, priorities, countries, compounds and dates spread like a busy FIU's)
and is published as a serving snapshot; a case store gets the touched cases (in review, decided, assigned to 20
analysts). `scamtrace ui` serves them; each request kind is timed 30 times after a warm-up. Prints p50 / p95 / max
in milliseconds, and the seconds to publish the snapshot.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def build(folder: Path, n_alerts: int, n_touched: int, cases_url: str) -> Path:
    import duckdb
    import sqlalchemy as sa

    from rules.alert_tables import ensure_tables
    from workbench import casestore, serving, users
    from workbench.casestore import CASES

    db = folder / "bench.duckdb"
    con = duckdb.connect(str(db))
    ensure_tables(con)
    con.execute(f"""
        INSERT INTO alerts (alert_id, subject_type, subject_id, subject_name, typology_id, typologies, rule_ids, reasons,
                            status, is_current, score, threshold, priority, priority_score, total_usd, n_transactions,
                            country, compound_ids, run_id, created_at, last_activity_at)
        SELECT 'AL-' || lpad(i::VARCHAR, 16, '0'), 'account', 'ACC:' || i, 'Holder ' || i,
               ['mule_fan_in', 'rapid_layering', 'pass_through', 'structuring', 'off_ramp', 'peel_chain', 'cycle'][1 + i % 7],
               [], [], ['reason ' || i], 'new', true, 1.0, 0.6,
               CASE WHEN i % 10 = 0 THEN 'high' WHEN i % 3 = 0 THEN 'medium' ELSE 'low' END, (hash(i) % 10000) / 10000.0,
               (hash(i * 7) % 1000000) / 10.0, 1 + i % 40, ['KH', 'MM', 'LA', 'PH', 'TH', 'MY'][1 + i % 6],
               CASE WHEN i % 5 = 0 THEN ['kk_park'] WHEN i % 11 = 0 THEN ['shwe_kokko'] ELSE [] END, 'R1',
               now() - to_days((i % 90)::INTEGER), now() - to_days((i % 120)::INTEGER)
        FROM range({n_alerts}) t(i)""")
    t0 = time.perf_counter()
    serving.publish(con, db)
    publish_s = time.perf_counter() - t0
    con.close()
    eng = casestore.engine(cases_url)
    analysts = [f"analyst{i:02d}" for i in range(20)]
    for name in analysts:
        users.add(eng, name, "analyst", "bench-password-1")
    statuses = ["in_review", "escalated", "confirmed", "false_positive", "closed"]
    now = time.time()
    from datetime import datetime, timedelta, timezone

    t = datetime.fromtimestamp(now, timezone.utc)
    rows = [{"case_id": "AL-" + str(i * (n_alerts // max(n_touched, 1))).zfill(16), "kind": "alert", "subject_id": f"ACC:{i}",
             "status": statuses[i % 5], "assignee": analysts[i % 20], "assigned_at": t, "due_at": t + timedelta(days=i % 9 - 4),
             "updated_at": t} for i in range(n_touched)]
    with eng.begin() as conn:
        for lo in range(0, len(rows), 5000):
            conn.execute(sa.insert(CASES), rows[lo:lo + 5000])
    print(f"snapshot of {n_alerts:,} alerts published in {publish_s:.2f} s; {n_touched:,} touched cases")
    return db


def timed(client, path: str, n: int = 30) -> list[float]:
    client.get(path).raise_for_status()  # warm-up
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        r = client.get(path)
        out.append((time.perf_counter() - t0) * 1000)
        r.raise_for_status()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--alerts", type=int, default=100_000)
    ap.add_argument("--touched", type=int, default=10_000)
    ap.add_argument("--cases", default=None, help="case store URL (default: a scratch SQLite file)")
    ap.add_argument("--port", type=int, default=8799)
    args = ap.parse_args()
    import httpx

    from workbench import casestore, users

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        url = args.cases or f"sqlite:///{folder / 'cases.sqlite'}"
        db = build(folder, args.alerts, args.touched, url)
        token = users.new_token(casestore.engine(url), "analyst00")
        proc = subprocess.Popen([sys.executable, "-m", "flows.cli", "ui", "--db", str(db), "--port", str(args.port)],
                                cwd=ROOT, env={**os.environ, "SCAMTRACE_CASES": url},
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{args.port}", headers={"Authorization": f"Bearer {token}"},
                              timeout=60) as c:
                for _ in range(100):
                    try:
                        c.get("/api/alerts?limit=1")
                        break
                    except httpx.TransportError:
                        time.sleep(0.2)
                print(f"{'request':58s} {'p50 ms':>8s} {'p95 ms':>8s} {'max ms':>8s}")
                for label, path in [
                    ("queue, open alerts, first page (API)", "/api/alerts?limit=50"),
                    ("queue, page 1,000 (API)", "/api/alerts?limit=50&offset=50000"),
                    ("queue, high priority + typology + compound (API)", "/api/alerts?priority=high&typology=cycle&compound=kk_park"),
                    ("queue, assigned to one analyst, all statuses (API)",
                     "/api/alerts?assignee=analyst03&status=new,in_review,escalated,confirmed,false_positive,closed"),
                    ("queue, older than 30 days, country KH (API)", "/api/alerts?age=gt30&jurisdiction=KH"),
                    ("queue page, HTML with filter menus", "/queue"),
                    ("queue page, HTML, high priority, page 20", "/queue?priority=high&page=20"),
                ]:
                    ms = sorted(timed(c, path))
                    print(f"{label:58s} {statistics.median(ms):8.1f} {ms[int(len(ms) * 0.95) - 1]:8.1f} {ms[-1]:8.1f}")
        finally:
            proc.terminate()
            proc.wait(30)


if __name__ == "__main__":
    main()
