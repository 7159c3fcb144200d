import json

from rules.engine import detect
from tests.rules.conftest import World, at


def loop(world: World, nodes: list[str], amounts: list[float], gap_hours: float = 24) -> None:
    for i, (a, usd) in enumerate(zip(nodes, amounts)):
        world.txn(a, nodes[(i + 1) % len(nodes)], usd, i * gap_hours)


def test_four_hop_cycle_fires_for_all_members(world: World):
    loop(world, ["A", "B", "C", "D"], [1000, 900, 850, 800])
    _, hits = world.run("cycle")
    assert set(hits) == {"A", "B", "C", "D"}
    h = hits["B"]
    assert h["value"] == 4 and h["score"] == 0.9 and len(h["txn_ids"]) == 4
    assert "round back to it (0.8 of the first amount returned)" in h["reason"] and "from A" in h["reason"]
    assert json.loads(h["evidence"])["returned_share"] == 0.8


def test_amounts_need_not_be_conserved_unless_asked(world: World):
    # hops drawn afresh (fees, splits, a simulator's amounts): still funds going round
    loop(world, ["A", "B", "C", "D", "E"], [1000, 420, 760, 530, 610])
    _, hits = world.run("cycle")
    assert hits["C"]["value"] == 5
    _, hits = world.run("cycle", min_return_share=0.8)
    assert hits == {}


def test_three_hop_cycle_is_below_min_length(world: World):
    # triangles of one-time payments occur by chance in a large payment graph
    loop(world, ["A", "B", "C"], [1000, 900, 800])
    _, hits = world.run("cycle")
    assert hits == {}
    _, hits = world.run("cycle", min_length=3)
    assert set(hits) == {"A", "B", "C"} and hits["B"]["value"] == 3


def test_relationships_that_repeat_are_not_walked(world: World):
    loop(world, ["A", "B", "C", "D"], [1000, 900, 850, 800])
    world.txn("B", "C", 150, 24 * 20)  # B pays C again: a standing relationship, not a hop of funds sent round
    _, hits = world.run("cycle")
    assert hits == {}
    _, hits = world.run("cycle", max_payments_per_pair=2)
    assert set(hits) == {"A", "B", "C", "D"}


def test_not_time_respecting_or_too_slow(world: World):
    world.txn("B", "C", 900, 0)  # before A -> B: no cycle in time order
    world.txn("A", "B", 1000, 10)
    world.txn("C", "D", 850, 20)
    world.txn("D", "A", 800, 30)
    _, hits = world.run("cycle")
    assert hits == {}


def test_window_and_length_overrides(world: World):
    loop(world, ["A", "B", "C", "D"], [1000, 950, 900, 850], gap_hours=24 * 12)  # 36 days
    _, hits = world.run("cycle")
    assert hits == {}
    _, hits = world.run("cycle", window="40d")
    assert hits["D"]["value"] == 4
    _, hits = world.run("cycle", window="40d", max_length=3, min_length=3)
    assert hits == {}


def test_small_transfers_and_busy_accounts_are_not_walked(world: World):
    loop(world, ["A", "B", "C", "D"], [1000, 900, 99, 800])  # one hop under min_usd
    _, hits = world.run("cycle")
    assert hits == {}
    _, hits = world.run("cycle", min_usd=50)
    assert set(hits) == {"A", "B", "C", "D"}
    for i in range(6):  # B becomes a hub with more counterparties than max_degree
        world.txn(f"X{i}", "B", 60, 100 + i)
    _, hits = world.run("cycle", min_usd=50, max_degree=5)
    assert hits == {}


def test_two_transfer_round_trip_is_below_min_length(world: World):
    loop(world, ["A", "B"], [1000, 950])  # a payment and its refund
    _, hits = world.run("cycle")
    assert hits == {}
    _, hits = world.run("cycle", min_length=2)
    assert set(hits) == {"A", "B"}


def test_a_daily_run_sees_older_history_of_the_relationships(world: World):
    world.txn("B", "C", 500, 0)  # B paid C two months before the day
    day = 24 * 60
    for i, (a, b) in enumerate([("A", "B"), ("B", "C"), ("C", "D"), ("D", "A")]):
        world.txn(a, b, 1000 - 50 * i, day + i)
    summary = detect(world.con, since=at(day), until=at(day + 24), only=["cycle"])
    assert world.con.execute("SELECT count(*) FROM rule_hits WHERE run_id = ?", [summary.run_id]).fetchone()[0] == 0
    world.con.execute("DELETE FROM transactions WHERE booked_at < ?", [at(day)])
    summary = detect(world.con, since=at(day), until=at(day + 24), only=["cycle"])
    assert world.con.execute("SELECT count(*) FROM rule_hits WHERE run_id = ?", [summary.run_id]).fetchone()[0] == 4
