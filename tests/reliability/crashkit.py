"""Crash-safety kit: a small world, a fork server that runs pipeline stages and SIGKILLs them, fingerprints.

Importing scamtrace (DuckDB, polars, Great Expectations) costs seconds per process, so stages do not start as new
interpreters: a *zygote* process imports everything once, then for each job forks a child that runs the plain
function (transforms.ingest.ingest_paths, rules.engine.detect + rules.casework.build, exports.export)
and, when asked, SIGKILLs the child after a delay. The zygote itself never runs a query, so forking is safe.

    python tests/reliability/crashkit.py --kills 100      # a longer run than CI's (see test_crash.py)

Fingerprints are sorted sha256 hashes of table rows without run ids, wall-clock times and statuses that record
history (an alert first raised by a killed-but-committed run is 'unchanged' when the rerun raises it again).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# columns that record when / by which run / what happened before, not what the data says
VOLATILE = {"run_id", "first_run_id", "created_at", "updated_at", "ingested_at", "status", "is_current",
            "previous_score", "path"}
INGEST_TABLES = ("transactions", "accounts", "parties", "events", "compounds", "fx_rates", "quarantine", "ingested_files")
DETECT_TABLES = ("alerts", "alert_evidence", "networks", "network_members", "network_edges", "compound_links")


# --------------------------------------------------------------------------------------------- the small world
def write_world(folder: Path, seed: int = 11, mule: str = "M", memo: str = "deposit") -> list[Path]:
    """Four extract files (fx, KYC accounts, two bank CSVs with a mapping, a Tronscan export) holding a fan-in
    mule, a pass-through and an off-ramp to USDT, plus bad rows for the quarantine. ~300 rows in all."""
    rnd = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    start = datetime(2026, 3, 2, 8, 0, 0)
    fx = "date,currency,usd_per_unit\n" + "".join(
        f"2026-03-{d:02d},{c},{r}\n" for d in range(1, 16) for c, r in (("THB", "0.028"), ("USDT", "1")))
    (folder / "fx.csv").write_text(fx)
    (folder / "bank.mapping.yml").write_text(
        "name: crash_bank\nfiles: ['bank_*.csv']\nconstants: {institution: CRASHTHB, country: TH, currency: THB}\n"
        "columns: {txn_id: ref, booked_at: t, account: acct, counterparty_account: cp, amount: amt, reference: memo}\n")
    rows = []
    n = 0
    for mule_no in range(6):  # each mule: 8-12 victims in a day, then most of it out to one consolidator
        t = start + timedelta(days=mule_no)
        total = 0
        for v in range(rnd.randint(8, 12)):
            amt = rnd.randint(20_000, 90_000)
            total += amt
            n += 1
            rows.append((f"R{n}", t + timedelta(minutes=37 * v), f"{mule}{mule_no}", f"V{mule_no}_{v}", f"{amt}.00", memo))
        n += 1
        rows.append((f"R{n}", t + timedelta(hours=9), f"{mule}{mule_no}", "CONSOL1", f"-{int(total * 0.95)}.00", "transfer"))
    for k in range(120):  # background payroll-like noise
        n += 1
        rows.append((f"R{n}", start + timedelta(hours=3 * k), f"C{k % 15}", f"S{k % 7}", f"-{rnd.randint(100, 5000)}.50", "shop"))
    rnd.shuffle(rows)
    half = len(rows) // 2
    for name, part in (("bank_a.csv", rows[:half]), ("bank_b.csv", rows[half:])):
        lines = ["ref,t,acct,cp,amt,memo"] + [",".join(_q(x) for x in (r, f"{t:%Y-%m-%d %H:%M:%S}", a, c, m, text))
                                              for r, t, a, c, m, text in part]
        lines += ["BAD1,2026-02-30 10:00:00,X,Y,5.00,bad date", "BAD2,2026-03-03 10:00:00,X,Y,1.5E+3,sci"]
        (folder / name).write_text("\n".join(lines) + "\n")
    accounts = ["rail,account,institution,chain,kind,label"] + [f"bank,{_q(mule + str(m))},CRASHTHB,,customer,{_q(memo)}" for m in range(6)]
    accounts += ["bank,CONSOL1,CRASHTHB,,customer,", "crypto,TOtcDesk11111111111111111111111,,tron,otc_desk,Golden OTC"]
    (folder / "accounts.csv").write_text("\n".join(accounts) + "\n")
    hdr = "Tx Hash,blockHeight,blockTime(UTC+8),blockTime(UTC),from,to,value,symbol,tokenAddress,isConfirm"
    tr = [hdr]
    for i in range(30):
        t = start + timedelta(days=7, minutes=11 * i)
        tr.append(f"h{i:04d},{70000000 + i},{t:%Y/%m/%d %H:%M:%S},{t:%Y/%m/%d %H:%M:%S},TConsol{i % 3}aaaaaaaaaaaaaaaaaaaaaaaaa,"
                  f"TOtcDesk11111111111111111111111,{rnd.randint(1000, 9000)}.5,USDT,TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t,"
                  f"{'false' if i == 5 else 'true'}")
    (folder / "tron.csv").write_text("\n".join(tr) + "\n")
    return [folder]


def _q(text: str) -> str:
    return '"' + text.replace('"', '""') + '"' if any(ch in text for ch in ',"\n\r') else text


# --------------------------------------------------------------------------------------------- jobs (in the child)
def run_job(job: dict) -> dict:
    from transforms import store

    os.environ.update(job.get("env") or {})
    stage = job["stage"]
    if stage == "ingest":
        from transforms.ingest import ingest_paths

        reports = ingest_paths(Path(job["db"]), [Path(p) for p in job["inputs"]], wait_seconds=job.get("wait", 30))
        bad = [r.as_dict() for r in reports if not r.reconciles or r.status == "refused"]
        return {"files": len(reports), "bad": bad, "statuses": sorted(r.status for r in reports)}
    if stage == "detect":
        from rules.casework import build
        from rules.engine import detect

        con = store.connect(Path(job["db"]), wait_seconds=job.get("wait", 30))
        try:
            summary = detect(con)
            build(con, summary.run_id)
        finally:
            con.close()
        return {"run_id": summary.run_id, "alerts": summary.alerts}
    if stage == "export":
        from exports import export

        con = store.connect(Path(job["db"]), read_only=True, wait_seconds=30)
        try:
            out = export(con, Path(job["out"]), formats=job.get("formats"))
        finally:
            con.close()
        return {"files": len(out["files"])}
    if stage == "connect":  # open the store (waiting up to `wait`), report how long it took
        t0 = time.monotonic()
        con = store.connect(Path(job["db"]), wait_seconds=job.get("wait", 0))
        try:
            held = con.execute("SELECT count(*) FROM _held").fetchall()[0][0]
        finally:
            con.close()
        return {"waited": round(time.monotonic() - t0, 3), "held_rows": held}
    if stage == "hold":  # hold the store open for a while (concurrency tests)
        con = store.connect(Path(job["db"]), wait_seconds=job.get("wait", 0))
        try:
            con.execute("CREATE TABLE IF NOT EXISTS _held (t TIMESTAMP)")
            con.execute("INSERT INTO _held VALUES (now())")
            time.sleep(job["seconds"])
        finally:
            con.close()
        return {}
    raise ValueError(stage)


def zygote_main() -> None:
    """Read one JSON job per line on stdin; fork a child per job; answer one JSON line per job on stdout."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import rules.casework  # noqa: F401  (imports only: no thread pools started before fork)
    import rules.engine  # noqa: F401
    import transforms.ingest  # noqa: F401
    import transforms.validate  # noqa: F401
    import great_expectations  # noqa: F401

    try:
        import exports  # noqa: F401
    except ImportError:
        pass
    out = sys.stdout
    out.write(json.dumps({"ready": True}) + "\n")
    out.flush()
    for line in sys.stdin:
        job = json.loads(line)
        if job.get("stage") == "parallel":  # several jobs at once (concurrency tests)
            out.write(json.dumps({"results": _run_parallel(job["jobs"])}, default=str) + "\n")
            out.flush()
            continue
        result_r, result_w = os.pipe()
        t0 = time.monotonic()
        pid = os.fork()
        if pid == 0:  # child
            os.close(result_r)
            code = 0
            try:
                res = {"ok": True, **run_job(job)}
            except BaseException as exc:  # report, never hang
                res = {"ok": False, "error": f"{type(exc).__name__}: {str(exc)[:500]}"}
                code = 1
            os.write(result_w, json.dumps(res, default=str).encode())
            os.close(result_w)
            os._exit(code)
        os.close(result_w)
        killed = False
        status = None
        kill_after = job.get("kill_after")
        if kill_after is not None:
            deadline = t0 + kill_after
            while time.monotonic() < deadline:
                done, st = os.waitpid(pid, os.WNOHANG)
                if done:
                    status = st
                    break
                time.sleep(0.005)
            else:
                os.kill(pid, signal.SIGKILL)
                killed = True
        if status is None:
            _, status = os.waitpid(pid, 0)
        with os.fdopen(result_r, "rb") as fh:
            payload = fh.read()
        res = json.loads(payload) if payload and not killed else {}
        res.update({"killed": killed, "seconds": round(time.monotonic() - t0, 3),
                    "exit": os.waitstatus_to_exitcode(status)})
        out.write(json.dumps(res, default=str) + "\n")
        out.flush()


def _run_parallel(jobs: list[dict]) -> list[dict]:
    started = []
    for job in jobs:
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            try:
                res = {"ok": True, **run_job(job)}
            except BaseException as exc:
                res = {"ok": False, "error": f"{type(exc).__name__}: {str(exc)[:500]}"}
            os.write(w, json.dumps(res, default=str).encode())
            os._exit(0)
        os.close(w)
        started.append((pid, r))
        time.sleep(job.get("stagger", 0))
    results = []
    for pid, r in started:
        with os.fdopen(r, "rb") as fh:
            payload = fh.read()
        os.waitpid(pid, 0)
        results.append(json.loads(payload) if payload else {"ok": False, "error": "no result"})
    return results


class Zygote:
    """Parent-side handle: start the fork server once, send jobs."""

    def __init__(self):
        env = {**os.environ, "PYTHONPATH": str(ROOT), "GX_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1"}
        self.proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--zygote"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, env=env, cwd=str(ROOT))
        ready = self.proc.stdout.readline()
        if not ready:
            raise RuntimeError("crash-test zygote did not start")

    def run(self, **job) -> dict:
        self.proc.stdin.write(json.dumps(job) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("crash-test zygote died")
        return json.loads(line)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


# --------------------------------------------------------------------------------------------- fingerprints
def fingerprint(db: Path, tables: tuple[str, ...]) -> dict[str, str]:
    """table -> sha256 over the sorted row hashes (volatile columns left out); absent tables -> 'absent'."""
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        present = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'").fetchall()}
        out = {}
        for t in tables:
            if t not in present:
                out[t] = "absent"
                continue
            cols = [r[0] for r in con.execute(f"DESCRIBE {t}").fetchall() if r[0] not in VOLATILE]
            rows = con.execute(f"SELECT {', '.join(cols)} FROM {t}").fetchall()
            hashes = sorted(hashlib.sha256(repr(r).encode()).hexdigest() for r in rows)
            out[t] = f"{len(rows)}:" + hashlib.sha256("".join(hashes).encode()).hexdigest()[:16]
        return out
    finally:
        con.close()


def export_fingerprint(out_dir: Path, stable: set[str] | None = None) -> dict[str, str]:
    """relative path -> sha256 for every output file but the manifest (content-stable files only, if given)."""
    res = {}
    for p in sorted(out_dir.rglob("*")):
        rel = p.relative_to(out_dir).as_posix()
        if p.is_file() and rel != "manifest.json":
            res[rel] = hashlib.sha256(p.read_bytes()).hexdigest() if stable is None or rel in stable else "*"
    return res


# --------------------------------------------------------------------------------------------- the campaign
def campaign(work: Path, kills: int, seed: int = 1, export_formats: str | None = "csv,jsonl,graphml,html",
             log=print, zygote: "Zygote | None" = None) -> dict:
    """Reference run, then `kills` runs each SIGKILLed at a random point of a random stage and re-run.
    Returns counts and the list of mismatches (empty = crash-safe)."""
    rnd = random.Random(seed)
    work.mkdir(parents=True, exist_ok=True)
    inputs = [str(p) for p in write_world(work / "world")]
    has_export = _has_exports()
    z = zygote or Zygote()
    problems: list[str] = []
    stats = {"kills": 0, "killed_mid_run": 0, "finished_before_kill": 0, "by_stage": {}}
    try:
        # reference: uninterrupted ingest, detect, export (twice, to learn which outputs embed the clock)
        ref_db = work / "ref.duckdb"
        times = {}
        for stage in ("ingest", "detect"):
            r = z.run(stage=stage, db=str(ref_db), inputs=inputs)
            assert r.get("ok") and not r.get("bad"), r
            times[stage] = r["seconds"]
        snap_ingested = work / "after_ingest.duckdb"
        r = z.run(stage="ingest", db=str(snap_ingested), inputs=inputs)
        assert r.get("ok"), r
        times["ingest"] = min(times["ingest"], r["seconds"])
        ref_ingest = fingerprint(ref_db, INGEST_TABLES)
        ref_detect = fingerprint(ref_db, DETECT_TABLES)
        if int(ref_detect["alerts"].split(":")[0]) == 0:
            problems.append("the reference run raised no alerts: the crash test world is too small")
        stable: set[str] = set()
        ref_export: dict[str, str] = {}
        if has_export:
            e1, e2 = work / "ref_export1", work / "ref_export2"
            for e in (e1, e2):
                r = z.run(stage="export", db=str(ref_db), out=str(e), formats=export_formats)
                assert r.get("ok"), r
                times["export"] = r["seconds"]
            a, b = export_fingerprint(e1), export_fingerprint(e2)
            # Case reports print the export time to the second: two quick reference exports can agree on it
            # by chance, so they are compared by presence only, never by bytes.
            stable = {k for k in a if a[k] == b.get(k) and not k.startswith("report/")}
            ref_export = export_fingerprint(e1, stable)
        log(f"reference: {times}, alerts {ref_detect['alerts']}, export files {len(ref_export)} ({len(stable)} content-stable)")
        stages = ["ingest", "detect"] + (["export"] if has_export else [])
        for i in range(kills):
            stage = stages[i % len(stages)]
            delay = rnd.uniform(0.02, max(0.1, times[stage] * 0.8))  # mostly while the stage runs
            it = work / f"it{i}"
            it.mkdir()
            db = it / "store.duckdb"
            if stage == "ingest":
                job = dict(stage="ingest", db=str(db), inputs=inputs)
            elif stage == "detect":
                shutil.copy(snap_ingested, db)
                job = dict(stage="detect", db=str(db))
            else:
                shutil.copy(ref_db, db)
                out = it / "export"
                shutil.copytree(work / "ref_export1", out)  # a previous export in the folder
                job = dict(stage="export", db=str(db), out=str(out), formats=export_formats)
            r = z.run(kill_after=delay, **job)
            stats["kills"] += 1
            stats["by_stage"][stage] = stats["by_stage"].get(stage, 0) + 1
            stats["killed_mid_run" if r["killed"] else "finished_before_kill"] += 1
            if not r["killed"] and not r.get("ok"):
                problems.append(f"#{i} {stage}: failed without a kill: {r}")
                continue
            if stage == "export":
                from exports import verify

                after_kill = verify(out)
                if not after_kill and export_fingerprint(out, stable) != ref_export:
                    problems.append(f"#{i} export killed at {delay:.2f}s: folder verifies but differs from a full export")
            # re-run the killed stage to completion
            r2 = z.run(**job)
            if not r2.get("ok") or r2.get("bad"):
                problems.append(f"#{i} {stage}: re-run after kill at {delay:.2f}s failed: {r2}")
                continue
            fp = fingerprint(db, INGEST_TABLES)
            if fp != ref_ingest:
                problems.append(f"#{i} {stage} killed at {delay:.2f}s: canonical tables differ: "
                                f"{ {k: (v, ref_ingest[k]) for k, v in fp.items() if v != ref_ingest[k]} }")
            if stage in ("detect", "export"):
                fp = fingerprint(db, DETECT_TABLES)
                if fp != ref_detect:
                    problems.append(f"#{i} {stage} killed at {delay:.2f}s: alert tables differ: "
                                    f"{ {k: (v, ref_detect[k]) for k, v in fp.items() if v != ref_detect[k]} }")
            if stage == "export":
                from exports import verify

                v = verify(out)
                if v:
                    problems.append(f"#{i} export re-run does not verify: {v[:5]}")
                if export_fingerprint(out, stable) != ref_export:
                    problems.append(f"#{i} export re-run differs from the reference export")
            shutil.rmtree(it, ignore_errors=True)
            log(f"#{i} {stage}: kill at {delay:.2f}s -> {'killed' if r['killed'] else 'finished first'}; re-run ok")
    finally:
        if zygote is None:
            z.close()
    return {**stats, "problems": problems}


def _has_exports() -> bool:
    try:
        from exports import export, verify  # noqa: F401
    except ImportError:
        return False
    return True


if __name__ == "__main__":
    if "--zygote" in sys.argv:
        zygote_main()
    else:
        import argparse
        import tempfile

        ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
        ap.add_argument("--kills", type=int, default=30)
        ap.add_argument("--seed", type=int, default=1)
        a = ap.parse_args()
        sys.path.insert(0, str(ROOT))
        with tempfile.TemporaryDirectory() as td:
            res = campaign(Path(td), a.kills, a.seed)
        print(json.dumps(res, indent=2))
        sys.exit(1 if res["problems"] else 0)
