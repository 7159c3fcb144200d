"""manifest.json lists every output and input with sha256, rule versions and run ids; verify catches changes."""

from __future__ import annotations

import hashlib
import json
import shutil

import pytest

from exports import verify

from .conftest import F_TRON, RUN


def test_manifest_covers_outputs_inputs_rules_and_runs(exported):
    out, result = exported
    doc = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    listed = {f["path"]: f for f in doc["outputs"]}
    on_disk = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()} - {"manifest.json"}
    assert set(listed) == on_disk == set(result["files"])
    for rel, meta in listed.items():
        assert meta["sha256"] == hashlib.sha256((out / rel).read_bytes()).hexdigest()
    inputs = {i["path"]: i for i in doc["inputs"]}
    assert inputs["/landing/tronscan_TKH.csv"]["sha256"] == F_TRON and len(inputs) == 4
    assert doc["detect_run_ids"] == [RUN] and doc["export_id"] == result["export_id"]
    rules = {(r["rule_id"], r["rule_version"]) for r in doc["rules"]}
    assert rules == {("fan_in_24h", "1.0.0"), ("off_ramp", "1.2.0")}
    assert doc["rules"][0]["parameters"] == {"min_senders": 2} and doc["rules"][0]["param_hash"]
    assert doc["parameters"]["full"] is True and doc["parameters"]["filters"]["status"] is None


def test_verify_clean_export(exported):
    out, _ = exported
    assert verify(out) == []


@pytest.fixture
def copy_of_export(exported, tmp_path):
    out, _ = exported
    dst = tmp_path / "copy"
    shutil.copytree(out, dst)
    return dst


SAMPLES = ["alerts.csv", "alerts.xlsx", "alert_transactions.parquet", "compound_links.jsonl",
           "goaml/network_NW-1.xml", "network.graphml", "graphml/NW-1.graphml", "report/NW-1.html",
           "jurisdictions/KH/transactions.csv", "graph_nodes.csv"]


@pytest.mark.parametrize("rel", SAMPLES)
def test_verify_detects_one_changed_byte(copy_of_export, rel):
    p = copy_of_export / rel
    data = bytearray(p.read_bytes())
    i = len(data) // 2
    data[i] = (data[i] + 1) % 256
    p.write_bytes(bytes(data))
    assert verify(copy_of_export) == [f"changed: {rel}"]


def test_verify_detects_every_output_changed(copy_of_export):
    doc = json.loads((copy_of_export / "manifest.json").read_text(encoding="utf-8"))
    for f in doc["outputs"]:
        p = copy_of_export / f["path"]
        data = bytearray(p.read_bytes()) or bytearray(b"\n")  # an empty table file: add one byte
        data[0] ^= 0x01
        p.write_bytes(bytes(data))
    problems = verify(copy_of_export)
    assert problems == sorted(f"changed: {f['path']}" for f in doc["outputs"])


def test_verify_detects_missing_and_extra_files(copy_of_export):
    (copy_of_export / "networks.csv").unlink()
    (copy_of_export / "report" / "injected.html").write_text("x", encoding="utf-8")
    assert verify(copy_of_export) == ["missing: networks.csv", "extra: report/injected.html"]


def test_verify_without_manifest(tmp_path):
    assert verify(tmp_path) == ["missing: manifest.json (not an export folder, or the manifest was removed)"]
