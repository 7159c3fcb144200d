"""The goAML files of an export: reports built, validated and written in batches, in worker processes
when there are many.

Building and validating a report is Python and libxml2 work that holds the GIL (~150 reports/s on one
core), so with more than one core the batches go to worker processes while this process reads the next
batch from the store. A batch carries its reports' rows and the accounts, parties, IPs and compound links
they cite (GoamlWriter.state()); workers never open the store. Files, their names and their order are the
same whichever way a batch was written.

Workers: one per core (at most MAX_WORKERS), or $SCAMTRACE_EXPORT_WORKERS; 1 writes in this process.
Exports of fewer than PARALLEL_MIN reports are written here: starting a worker costs about a second.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

from joblib import Parallel, delayed

from transforms.exports import goaml
from transforms.exports.safe import atomic_write

# Alerts per batch: one batch's alerts, evidence, accounts and parties are in memory at a time (per worker).
GOAML_CHUNK = 2_000
PARALLEL_MIN = 2_000
MAX_WORKERS = 8


@dataclass
class Item:
    """One report to write: alert_report(writer, *args) or network_report(writer, *args) into path."""

    kind: str  # "alert" or "network"
    ident: str
    path: Path
    args: tuple


@dataclass
class Batch:
    state: dict  # GoamlWriter.state() of the reports' scope
    items: list[Item]


def workers_wanted(n_reports: int) -> int:
    env = os.environ.get("SCAMTRACE_EXPORT_WORKERS", "").strip()
    if env:
        try:
            return max(1, int(env))
        except ValueError:
            raise ValueError(f"SCAMTRACE_EXPORT_WORKERS={env!r}: give a whole number of worker processes (1 = none)")
    if n_reports < PARALLEL_MIN:
        return 1
    return max(1, min(os.cpu_count() or 1, MAX_WORKERS))


def write_batch(writer: goaml.GoamlWriter, items: list[Item], out: Path, schema_path: str | None,
                validator: str) -> dict:
    """Build, write and validate each report; an invalid one is moved to goaml/invalid/ with its errors."""
    res: dict = {"valid": [], "invalid": [], "skipped": [], "written": []}
    for it in items:
        try:
            xml = (goaml.alert_report if it.kind == "alert" else goaml.network_report)(writer, *it.args)
        except ValueError as exc:  # e.g. an alert without evidence transactions
            res["skipped"].append({"id": it.ident, "reason": str(exc)})
            continue
        atomic_write(it.path, xml)
        errors = goaml.validate_file(it.path, schema_path, validator=validator)
        if errors:
            # Never leave an invalid report where it could be submitted: move it aside with its errors.
            bad = it.path.parent / "invalid" / it.path.name
            atomic_write(bad, xml)
            it.path.unlink()
            atomic_write(bad.with_suffix(".errors.txt"), "\n".join(errors) + "\n")
            res["written"] += [bad, bad.with_suffix(".errors.txt")]
            res["invalid"].append({"id": it.ident, "file": bad.relative_to(out).as_posix(), "errors": errors[:20]})
        else:
            res["written"].append(it.path)
            res["valid"].append(it.path.relative_to(out).as_posix())
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
    return write_batch(writer, batch.items, out, schema_path, validator)


def _in_process(writer: goaml.GoamlWriter, batches: Iterable[Batch], out: Path, schema_path: str | None,
                validator: str) -> Iterator[dict]:
    for b in batches:
        writer.use(b.state)
        yield write_batch(writer, b.items, out, schema_path, validator)


def write_all(writer: goaml.GoamlWriter, batches: Iterable[Batch], n_reports: int, out: Path) -> dict:
    """Write every batch (in this process or in workers); results in batch order."""
    cfg = writer.cfg
    schema_path, validator = cfg.get("schema"), str(cfg.get("validator") or "auto")
    total: dict = {"valid": [], "invalid": [], "skipped": [], "written": []}
    workers = workers_wanted(n_reports)
    if workers == 1:
        results: Iterable[dict] = _in_process(writer, batches, out, schema_path, validator)
    else:
        # loky workers (joblib): started without re-running the caller's script, unlike multiprocessing's
        # spawn, so a script that calls export() needs no __main__ guard. The batches are read lazily,
        # two per worker ahead, so memory stays bounded; results come back in batch order.
        results = Parallel(n_jobs=workers, backend="loky", return_as="generator", pre_dispatch="2*n_jobs")(
            delayed(_run_batch)(cfg, writer.rates, b, out, schema_path, validator) for b in batches)
    for res in results:
        for k in total:
            total[k] += res[k]
    return total


def alert_batches(rows_of: Callable[[int, int], tuple[list[dict], list[dict]]], writer: goaml.GoamlWriter,
                  n_alerts: int, path_of: Callable[[str, str], Path]) -> Iterator[Batch]:
    """Batches of GOAML_CHUNK alerts in export order. rows_of(lo, hi) -> (alerts, evidence) of that ord range;
    path_of(kind, ident) -> the report's file."""
    for lo in range(0, n_alerts, GOAML_CHUNK):
        alerts, evidence = rows_of(lo, lo + GOAML_CHUNK)
        scope(writer, evidence, [(a["subject_type"], a["subject_id"]) for a in alerts])
        by_alert: dict[str, list[dict]] = {}
        for e in evidence:
            by_alert.setdefault(e["alert_id"], []).append(e)
        items = [Item("alert", a["alert_id"], path_of("alert", a["alert_id"]), (a, by_alert.get(a["alert_id"], [])))
                 for a in alerts]
        yield Batch(writer.state(), items)


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
