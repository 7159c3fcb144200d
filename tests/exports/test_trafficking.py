"""A trafficked worker's way through casework and every export: three workers moved into a compound and run from
one phone there, each taking a victim's money on to a collector. Casework labels them possible trafficking victims
(never an organiser, never first), and every export says so with the non-punishment caution."""

from __future__ import annotations

import csv
import json

import networkx as nx
import pytest

from exports import export
from rules.casework.trafficking import NON_PUNISHMENT, ROLE
from rules import casework
from rules.engine import detect
from tests.rules.conftest import World
from tests.rules.trafficking_world import DAY, compound, move

WORKERS = ("W0", "W1", "W2")


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("trafficking")
    world = World(tmp_path)
    compound(world)
    for i, w in enumerate(WORKERS):
        world.party(f"p-{w}", name=f"Worker Number{i}")
        move(world, w, (10 + i) * DAY, device="compound-phone")
        world.txn(f"V{i}", w, 900, (13 + i) * DAY)
        world.txn(w, "CONS", 850, (14 + i) * DAY)
    world.account("CONS", holder_id="p-cons")
    world.party("p-cons", name="Collector")
    run = detect(world.con)
    casework.build(world.con, run.run_id)
    out = tmp_path / "out"
    export(world.con, out, formats=["csv", "goaml", "graphml", "ftm", "html"])
    yield world.con, out
    world.con.close()


def test_casework_keeps_trafficked_workers_apart_from_the_suspects(exported):
    con, _ = exported
    rows = con.execute("SELECT member_type, member_id, role, roles, rank, trafficking_facts FROM network_members").fetchall()
    workers = {r[1]: r for r in rows if r[1] in WORKERS}
    assert set(workers) == set(WORKERS)
    for _t, _id, role, roles, rank, facts in workers.values():
        assert role == ROLE and "mule" not in roles and rank > 1
        assert facts[0].startswith("used from outside the compound until") and "inside kk_park" in facts[0]
        assert any("device compound-phone" in f for f in facts)
    holders = [r for r in rows if r[0] == "party" and r[1] in {f"p-{w}" for w in WORKERS}]
    assert holders and all(r[2] == ROLE and "organiser" not in r[3] for r in holders)
    top = con.execute("SELECT top_member_id FROM networks").fetchall()
    assert top and all(t[0] not in WORKERS and not str(t[0]).startswith("p-W") for t in top)


def test_every_export_names_the_role_and_the_non_punishment_caution(exported):
    _, out = exported
    alerts = [r for r in csv.DictReader(open(out / "alerts.csv", encoding="utf-8")) if r["subject_id"] in WORKERS]
    assert alerts and all(r["subject_role"] == ROLE and NON_PUNISHMENT in r["caution"] for r in alerts)
    members = [r for r in csv.DictReader(open(out / "network_members.csv", encoding="utf-8")) if r["member_id"] in WORKERS]
    assert members and all(r["role"] == ROLE and "inside kk_park" in r["trafficking_facts"] for r in members)
    report = next((out / "report").glob("NW-*.html")).read_text(encoding="utf-8")
    assert "Possible victims of trafficking" in report and "possible trafficking victim" in report
    assert "non-punishment principle" in report
    network_xml = next((out / "goaml").glob("network_*.xml")).read_text(encoding="utf-8")
    assert "may be a victim of trafficking forced into crime" in network_xml and "non-punishment principle" in network_xml
    worker_alert_xml = [p.read_text(encoding="utf-8") for p in (out / "goaml").glob("*.xml") if not p.name.startswith("network_")]
    assert any("account W0 (Worker Number0) may be a victim of trafficking" in x for x in worker_alert_xml)
    g = nx.read_graphml(out / "network.graphml", force_multigraph=True)
    assert {d.get("role") for n, d in g.nodes(data=True) if n.endswith(WORKERS)} == {ROLE}
    ftm = [json.loads(line) for line in open(out / "network.ftm.json", encoding="utf-8")]
    assert any(ROLE in json.dumps(e) for e in ftm)
