"""Recruited workers in casework: a recruiter whose payers moved into a compound is linked to it (link kind
`recruitment`), and the payers are possible trafficking victims whose facts name the recruiter."""

from __future__ import annotations

from exports import export
from rules import casework
from rules.engine import detect
from tests.rules.conftest import World
from tests.rules.trafficking_world import DAY, compound, move


def test_recruiter_linked_to_the_compound_its_payers_moved_into(tmp_path):
    world = World(tmp_path)
    compound(world)
    for i in range(3):
        paid = (5 + i) * DAY
        world.txn(f"W{i}", "AGENCY", 800, paid)
        move(world, f"W{i}", paid + 20 * DAY)
    world.account("AGENCY", kind="corporate", holder_id="p-agency")
    world.txn("AGENCY", "SHELL", 1500, 12 * DAY)
    run = detect(world.con)
    casework.build(world.con, run.run_id)
    links = world.con.execute("SELECT compound_id, confidence, evidence_text FROM compound_links"
                              " WHERE subject_id = 'AGENCY' AND link_kind = 'recruitment'").fetchall()
    assert links and links[0][0] == "kk_park" and abs(links[0][1] - 0.63) < 1e-6  # 0.7 x the entry's 0.9
    assert "3 people paid the account" in links[0][2]
    rows = world.con.execute("SELECT member_id, role, trafficking_facts FROM network_members"
                             " WHERE member_type = 'account' ORDER BY member_id").fetchall()
    roles = {m: (r, f) for m, r, f in rows}
    assert roles["AGENCY"][0] != "possible_trafficking_victim"
    for i in range(3):
        role, facts = roles[f"W{i}"]
        assert role == "possible_trafficking_victim" and any("paid the recruiter AGENCY" in f for f in facts)
    # the recruiter's goAML report names the payers as possible victims, and not as suspects
    export(world.con, tmp_path / "out", formats=["goaml"])
    (alert_id,) = world.con.execute("SELECT alert_id FROM alerts WHERE subject_id = 'AGENCY'"
                                    " AND typology_id = 'recruitment_fees'").fetchone()
    xml = (tmp_path / "out" / "goaml" / f"alert_{alert_id}.xml").read_text(encoding="utf-8")
    assert "account W0 may be a victim of trafficking" in xml and "non-punishment principle" in xml
    assert "<from_is_suspected>true</from_is_suspected>" not in xml  # the fees come from the workers' accounts
    world.con.close()
