"""The goAML files of an export: reports built, validated and written in batches, in worker processes
(workers.py) when the export is large.

A batch carries its reports' rows and the accounts, parties, IPs and compound links they cite
(GoamlWriter.state()), so a worker needs no store. Files, their names and their order are the same
whichever way a batch was written.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

from exports import goaml
from exports.safe import atomic_write, sync_files

# Alerts per batch, and evidence rows per batch: one batch's alerts, evidence, accounts and parties are in memory
# at a time in a worker, and a few batches wait in this process (~4 KB per evidence row as Python dicts). The row
# budget matters on a year's export, where the first batches hold the highest-priority alerts with thousands of
# evidence rows each: 1,000 of them (2M rows) ran the 100M bench export out of memory. An alert with more rows than
# the budget is a batch of its own.
GOAML_CHUNK = 1_000
GOAML_BATCH_ROWS = 50_000
# Reports from which an export is worth worker processes (about 10 s of work on one core).
PARALLEL_MIN = 2_000


@dataclass
class Item:
    """One report to write: alert_document(writer, *args) or network_document(writer, *args) into path."""

    kind: str  # "alert" or "network"
    ident: str
    path: Path
    args: tuple


@dataclass
class Batch:
    state: dict  # GoamlWriter.state() of the reports' scope
    items: list[Item]


def write_batch(writer: goaml.GoamlWriter, items: list[Item], out: Path, schema_path: str | None,
                validator: str) -> dict:
    """Build, write and validate each report; an invalid one is moved to goaml/invalid/ with its errors.
    The batch's files are fsync'ed together at its end (safe.sync_files), before the manifest can name them."""
    res: dict = {"valid": [], "invalid": [], "skipped": [], "written": []}
    for it in items:
        try:
            build = goaml.alert_document if it.kind == "alert" else goaml.network_document
            root = build(writer, *it.args)
        except ValueError as exc:  # e.g. an alert without evidence transactions
            res["skipped"].append({"id": it.ident, "reason": str(exc)})
            continue
        xml = goaml.to_bytes(root)
        atomic_write(it.path, xml, sync=False)
        errors = goaml.validate_tree(root, it.path, schema_path, validator=validator)
        if errors:
            # Never leave an invalid report where it could be submitted: move it aside with its errors.
            bad = it.path.parent / "invalid" / it.path.name
            atomic_write(bad, xml, sync=False)
            it.path.unlink()
            atomic_write(bad.with_suffix(".errors.txt"), "\n".join(errors) + "\n", sync=False)
            res["written"] += [bad, bad.with_suffix(".errors.txt")]
            res["invalid"].append({"id": it.ident, "file": bad.relative_to(out).as_posix(), "errors": errors[:20]})
        else:
            res["written"].append(it.path)
            res["valid"].append(it.path.relative_to(out).as_posix())
    sync_files(res["written"])
    return res


_WORKER: tuple[int, goaml.GoamlWriter] | None = None  # a worker process's writer (schema facts loaded once)


def _run_batch(cfg: dict, rates: list[dict], batch: Batch, out: Path, schema_path: str | None,
               validator: str) -> dict:
    """One batch in a worker process; the writer is built on the worker's first batch of an export."""
    global _WORKER
    key = hash(repr((cfg, rates)))
    if _WORKER is None or _WORKER[0] != key:
        _WORKER = (key, goaml.GoamlWriter(None, cfg, preload=False, rates=rates))
    writer = _WORKER[1]
    writer.use(batch.state)
    try:
        return write_batch(writer, batch.items, out, schema_path, validator)
    finally:
        # hold nothing between batches: loky restarts a worker whose memory stays 300 MB above its start
        writer.use({"accounts": {}, "parties": {}, "ip_by_account": {}, "links": {}})


def write_all(writer: goaml.GoamlWriter, batches: Iterable[Batch], out: Path, pool=None, workers: int = 1) -> dict:
    """Write every batch, in this process or (pool: workers.executor(workers)) in workers; results in
    batch order."""
    cfg = writer.cfg
    schema_path, validator = cfg.get("schema"), str(cfg.get("validator") or "auto")
    total: dict = {"valid": [], "invalid": [], "skipped": [], "written": []}

    def add(res: dict) -> None:
        for k in total:
            total[k] += res[k]

    if pool is None:
        for b in batches:
            writer.use(b.state)
            add(write_batch(writer, b.items, out, schema_path, validator))
        return total
    pending: deque = deque()
    try:
        for b in batches:  # read lazily: at most two batches per worker are held at a time
            pending.append(pool.submit(_run_batch, cfg, writer.rates, b, out, schema_path, validator))
            while len(pending) > 2 * workers:
                add(pending.popleft().result())
        while pending:
            add(pending.popleft().result())
    except BaseException:
        for f in pending:
            f.cancel()
        raise
    return total


def alert_batches(rows_of: Callable[[int, int], tuple[list[dict], list[dict], dict[str, dict]]],
                  writer: goaml.GoamlWriter, sizes: Sequence[int], path_of: Callable[[str, str], Path]) -> Iterator[Batch]:
    """Batches of alerts in export order. rows_of(lo, hi) -> (alerts, evidence, facts) of that ord range (facts:
    alert id -> what its whole evidence holds, for evidence cut to the largest transactions; see
    tables.capped_evidence); sizes[ord] -> the alert's evidence rows; path_of(kind, ident) -> the report's file."""
    for lo, hi in batch_ranges(sizes):
        alerts, evidence, facts = rows_of(lo, hi)
        scope(writer, evidence, [(a["subject_type"], a["subject_id"]) for a in alerts]
              + [("account", m) for a in alerts for m in a.get("member_ids") or []])
        by_alert: dict[str, list[dict]] = {}
        for e in evidence:
            by_alert.setdefault(e["alert_id"], []).append(e)
        # an analyst's false positive never leaves as a suspicious transaction report
        items = [Item("alert", a["alert_id"], path_of("alert", a["alert_id"]),
                      (a, by_alert.get(a["alert_id"], []), facts.get(a["alert_id"]))) for a in alerts
                 if a.get("disposition") != "false_positive"]
        yield Batch(writer.state(), items)


def batch_ranges(sizes: Sequence[int], max_alerts: int | None = None,
                 max_rows: int | None = None) -> Iterator[tuple[int, int]]:
    """[lo, hi) ord ranges of at most max_alerts alerts and, unless one alert alone exceeds it, max_rows rows."""
    max_alerts = max_alerts or GOAML_CHUNK
    max_rows = max_rows or GOAML_BATCH_ROWS
    lo, rows = 0, 0
    for i, n in enumerate(sizes):
        if i > lo and (i - lo >= max_alerts or rows + n > max_rows):
            yield lo, i
            lo, rows = i, 0
        rows += n
    if lo < len(sizes):
        yield lo, len(sizes)


def network_batches(rows_of: Callable[[str], tuple[list[dict], list[dict]]], writer: goaml.GoamlWriter,
                    networks: list[dict], path_of: Callable[[str, str], Path]) -> Iterator[Batch]:
    """One batch per network. rows_of(network_id) -> (members, evidence)."""
    for n in networks:
        nid = n["network_id"]
        members, evidence = rows_of(nid)
        scope(writer, evidence, [(m["member_type"], m["member_id"]) for m in members])
        yield Batch(writer.state(), [Item("network", nid, path_of("network", nid), (n, members, evidence))])


def scope(writer: goaml.GoamlWriter, evidence: list[dict], subjects: list[tuple[str, str]]) -> None:
    """Load the accounts, parties, IPs and compound links that these reports can cite."""
    accounts = {t.get(k) for t in evidence for k in ("from_account_id", "to_account_id")}
    accounts |= {i for kind, i in subjects if kind == "account"}
    writer.scope(accounts, {i for kind, i in subjects if kind != "account"}, subjects)
