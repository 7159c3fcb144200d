import json

import pytest

from tests.rules.conftest import World

DAY = 24


def diamond(world: World, second_share: float = 0.9, sink_b: str = "K") -> None:
    """S pays M1 and M2; each passes on 0.9 of it (M2 to the cent: second_share) to K within days."""
    world.txn("S", "M1", 1000.41, 0)
    world.txn("S", "M2", 700.23, 2 * DAY)
    world.txn("M1", "K", 900.37, 5 * DAY)
    world.txn("M2", sink_b, round(700.23 * second_share, 2), 6 * DAY)


def test_two_intermediaries_keeping_the_same_cut_between_one_source_and_one_sink(world: World):
    diamond(world)
    world.txn("X", "Y", 55.5, 1)      # unrelated traffic
    _, hits = world.run("split_rejoin")
    assert set(hits) == {"S", "K"}
    sink = hits["K"]
    assert sink["value"] == 2 and len(sink["txn_ids"]) == 4   # the four legs, nothing else
    assert sorted(sink["member_ids"]) == ["M1", "M2", "S"] and sorted(hits["S"]["member_ids"]) == ["K", "M1", "M2"]
    assert "S paid 2 intermediaries that each passed on 0.9 of it to K" in sink["reason"]
    evidence = json.loads(sink["evidence"])
    assert evidence["role"] == "sink" and evidence["total_usd"] == pytest.approx(900.37 + 630.21)
    assert json.loads(hits["S"]["evidence"])["role"] == "source"


def test_different_cuts_are_chance(world: World):
    diamond(world, second_share=0.85)
    _, hits = world.run("split_rejoin")
    assert hits == {}


def test_the_same_cut_to_two_different_payees_is_no_rejoin(world: World):
    diamond(world, sink_b="L")         # a split with the same cut (same_cut's), but it never meets again
    _, hits = world.run("split_rejoin")
    assert hits == {}
    _, same = world.run("same_cut")
    assert set(same) == {"M1", "M2"}


def test_passing_on_everything_is_the_same_cut(world: World):
    world.txn("S", "M1", 126.19, 0)    # an intermediary that keeps nothing, twice: the amounts agree to the cent
    world.txn("S", "M2", 131.07, 1 * DAY)
    world.txn("M1", "K", 126.19, 4 * DAY)
    world.txn("M2", "K", 131.07, 9 * DAY)
    _, hits = world.run("split_rejoin")
    assert set(hits) == {"S", "K"} and json.loads(hits["K"]["evidence"])["share"] == 1.0


def test_three_intermediaries_reach_the_top_band(world: World):
    diamond(world)
    world.txn("S", "M3", 500.55, 3 * DAY)
    world.txn("M3", "K", 450.50, 7 * DAY)   # 0.9 of 500.55, to the cent
    _, hits = world.run("split_rejoin")
    assert hits["K"]["value"] == 3 and hits["K"]["score"] == 1.0
    _, hits = world.run("split_rejoin", min_intermediaries=4, strong_intermediaries=5)
    assert hits == {}


def test_a_service_intermediary_takes_no_part(world: World):
    diamond(world)
    world.account("M2", kind="otc_desk")
    _, hits = world.run("split_rejoin")
    assert hits == {}


def test_legs_beyond_the_window_are_not_one_split(world: World):
    world.txn("S", "M1", 1000.41, 0)
    world.txn("S", "M2", 700.23, 25 * DAY)   # the source's second payment 25 days after the first
    world.txn("M1", "K", 900.37, 3 * DAY)
    world.txn("M2", "K", 630.21, 27 * DAY)
    _, hits = world.run("split_rejoin")
    assert hits == {}
    _, hits = world.run("split_rejoin", window="30d")
    assert set(hits) == {"S", "K"}


def every_hit(world: World, **params) -> list[dict]:
    """All hits of the last run (world.run keeps one per subject), with their window."""
    world.run("split_rejoin", **params)
    rows = world.con.execute(
        "SELECT subject_id, measured_value, reason, evidence, window_start, window_end FROM rule_hits"
        " WHERE rule_id = 'split_rejoin' AND run_id = (SELECT max(run_id) FROM rule_hits) ORDER BY subject_id, reason"
    ).fetchall()
    return [dict(zip(("subject_id", "value", "reason", "evidence", "start", "end"), r)) for r in rows]


def test_two_cuts_between_one_source_and_sink_are_two_schemes(world: World):
    for mid, (usd, day, out, out_day) in {"M1": (1000.41, 0, 900.37, 3), "M2": (700.23, 1, 630.21, 4),   # 0.9
                                           "M3": (500.55, 2, 300.33, 5), "M4": (800.35, 2.1, 480.21, 6)}.items():  # 0.6
        world.txn("S", mid, usd, day * DAY)
        world.txn(mid, "K", out, out_day * DAY)
    sink = [h for h in every_hit(world) if h["subject_id"] == "K"]
    assert sorted(json.loads(h["evidence"])["share"] for h in sink) == [0.6, 0.9]
    assert [h["value"] for h in sink] == [2, 2]


def test_pairs_of_intermediaries_months_apart_are_two_schemes(world: World):
    for day, (a, b) in ((0, ("M1", "M2")), (60, ("M3", "M4"))):
        world.txn("S", a, 1000.41, day * DAY)
        world.txn(a, "K", 900.37, (day + 3) * DAY)
        world.txn("S", b, 700.23, (day + 1) * DAY)
        world.txn(b, "K", 630.21, (day + 6) * DAY)
    sink = [h for h in every_hit(world) if h["subject_id"] == "K"]
    assert [h["value"] for h in sink] == [2, 2]
    assert all((h["end"] - h["start"]).days <= 21 for h in sink)


def test_a_service_takes_no_part_as_source_or_sink(world: World):
    diamond(world)
    world.account("K", kind="exchange_hot_wallet")   # two customers paying on to an exchange's wallet
    _, hits = world.run("split_rejoin")
    assert hits == {}
    _, hits = world.run("split_rejoin", service_kinds=[])
    assert set(hits) == {"S", "K"}


def test_the_evidence_is_the_legs_from_the_source_and_to_the_sink(world: World):
    world.txn("T", "M1", 400.17, 0)                 # M1 gathers S's and T's credits, M2 splits to K and L
    world.txn("S", "M1", 600.24, 1)
    world.txn("M1", "K", 900.37, 5 * DAY)           # 0.9 of 1000.41
    world.txn("S", "M2", 700.23, 2 * DAY)
    world.txn("M2", "K", 430.07, 6 * DAY)
    world.txn("M2", "L", 200.14, 6 * DAY + 1)       # 430.07 + 200.14 = 0.9 of 700.23
    _, hits = world.run("split_rejoin")
    sink = hits["K"]
    legs = world.con.execute("SELECT from_account_id, to_account_id FROM transactions WHERE txn_id IN (SELECT unnest(?))",
                             [sink["txn_ids"]]).fetchall()
    assert sorted(legs) == [("M1", "K"), ("M2", "K"), ("S", "M1"), ("S", "M2")]
    assert json.loads(sink["evidence"])["total_usd"] == pytest.approx(900.37 + 430.07)
