"""DuckDB and Spark side by side: the rule pack on the same store, the same hits, seconds and peak memory.

    python bench/bench_spark.py                        # the 1M benchmark world, Spark in local[*]
    python bench/bench_spark.py --size 10M             # another size of bench/run.py's worlds
    python bench/bench_spark.py --cluster              # also a standalone master and two workers on 127.0.0.1
    python bench/bench_spark.py --db some.duckdb       # any store

The world is generated and ingested once by bench/run.py (`--ingest-only`, cached under bench/cache/). Each
engine runs `detect` on its own copy of the store; hits are compared by (rule, subject, band, evidence ids).
Peak memory: the Python process's own high-water mark for DuckDB; for Spark, the sum of the Java processes'
peak resident sets (driver, and master and workers with --cluster), sampled every 0.5 s.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

HITS = "SELECT rule_id, subject_id, band, txn_ids FROM rule_hits WHERE run_id = ? ORDER BY ALL"


class JavaPeak:
    """Peak summed RSS of this process tree's Java processes (and of listed ones)."""

    def __init__(self, extra: list[psutil.Process] | None = None):
        self.extra, self.peak, self._stop = extra or [], 0, threading.Event()

    def _sample(self) -> None:
        while not self._stop.wait(0.5):
            procs = psutil.Process().children(recursive=True) + self.extra
            rss = 0
            for p in procs:
                try:
                    if "java" in p.name():
                        rss += p.memory_info().rss
                except psutil.Error:
                    continue
            self.peak = max(self.peak, rss)

    def __enter__(self):
        threading.Thread(target=self._sample, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self._stop.set()


def _store(size: str) -> Path:
    from run import label, parse_size, run_size

    n = parse_size(size)
    db = ROOT / "bench" / "cache" / f"world_{n}" / "store" / "bench.duckdb"
    if not db.exists():
        print(f"generating and ingesting the {label(n)} world (as bench/run.py --ingest-only) ...", flush=True)
        run_size(n, 0, None, None, False, ingest_only=True)
    return db


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _standalone(workers: int = 2) -> tuple[str, list[subprocess.Popen]]:
    """A Spark master and `workers` workers (one core each) on 127.0.0.1, from pyspark's own spark-class."""
    import pyspark

    spark_class = Path(pyspark.__file__).parent / "bin" / "spark-class"
    port, ui = _free_port(), _free_port()
    env = {**os.environ, "SPARK_LOCAL_IP": "127.0.0.1"}
    # each in its own process group: spark-class is a shell script, and stopping it must stop its JVM too
    procs = [subprocess.Popen([str(spark_class), "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
                               "--port", str(port), "--webui-port", str(ui)], env=env, start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    url = f"spark://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.5)
    for _ in range(workers):
        procs.append(subprocess.Popen([str(spark_class), "org.apache.spark.deploy.worker.Worker", url, "--cores", "1",
                                       "--memory", "3g", "--host", "127.0.0.1", "--webui-port", str(_free_port())],
                                      env=env, start_new_session=True, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL))
    time.sleep(8)  # the workers register with the master
    return url, procs


def _stop(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        try:
            os.killpg(p.pid, signal.SIGTERM)
        except ProcessLookupError:
            continue
    for p in procs:
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="1M")
    ap.add_argument("--db", type=Path, help="a store to use instead of a benchmark world")
    ap.add_argument("--cluster", action="store_true", help="also run on a standalone master with two workers")
    args = ap.parse_args()

    from peak_memory import hwm_mb, reset_hwm

    from rules.engine import detect
    from rules.spark_engine import SparkRunner, spark_session
    from transforms.lake import export_lake
    from transforms.store import connect

    src = args.db or _store(args.size)
    work = Path(tempfile.mkdtemp(prefix="bench-spark-", dir=src.parent))
    results = {}
    cluster: list[subprocess.Popen] = []
    try:
        shutil.copy(src, work / "duckdb.duckdb")
        con = connect(work / "duckdb.duckdb")
        n = con.execute("SELECT count(*) FROM transactions").fetchall()[0][0]
        reset_hwm()
        t = time.perf_counter()
        run = detect(con).run_id
        results["duckdb"] = (time.perf_counter() - t, hwm_mb(), con.execute(HITS, [run]).fetchall())
        con.close()
        t = time.perf_counter()
        shutil.copy(src, work / "lake.duckdb")
        con = connect(work / "lake.duckdb")
        export_lake(con, work / "lake")
        con.close()
        lake_seconds = time.perf_counter() - t
        targets = [("spark local[*]", "local[*]", [])]
        if args.cluster:
            url, cluster = _standalone()
            targets.append(("spark standalone, 2 workers", url, cluster))
        for name, master, procs in targets:
            shutil.copy(src, work / "spark.duckdb")
            con = connect(work / "spark.duckdb")
            extra = [psutil.Process(p.pid) for p in procs]
            with JavaPeak(extra) as peak:
                t = time.perf_counter()
                conf = {} if master.startswith("local") else {"spark.executor.memory": "2g", "spark.driver.memory": "3g"}
                runner = SparkRunner(work / "lake", master, session=spark_session(master, conf=conf))
                try:
                    run = detect(con, runner=runner).run_id
                finally:
                    runner.spark.stop()
                seconds = time.perf_counter() - t
            results[name] = (seconds, peak.peak / 2**20, con.execute(HITS, [run]).fetchall())
            con.close()
    finally:
        _stop(cluster)
        shutil.rmtree(work, ignore_errors=True)
    base = results["duckdb"]
    cores = os.cpu_count() or 1
    print(f"{n:,} transactions; lake export {lake_seconds:.1f} s; {cores} cores")
    print(f"{'engine':30s} {'seconds':>9s} {'peak MB':>9s} {'x DuckDB':>9s} {'rows/s/core':>12s} {'hits':>7s}  same hits")
    for name, (seconds, mb, hits) in results.items():
        print(f"{name:30s} {seconds:9.1f} {mb:9.0f} {seconds / base[0]:9.1f} {n / seconds / cores:12,.0f} {len(hits):7d}  "
              f"{'yes' if hits == base[2] else 'NO'}")


if __name__ == "__main__":
    main()
