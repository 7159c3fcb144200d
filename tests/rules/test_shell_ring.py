import json

import pytest

from rules.engine import detect
from tests.rules.conftest import World, at

DAY = 24


def busy(world: World, account: str, partners: list[str], start: float = -200 * DAY) -> None:
    """Ordinary life for `account`: it pays and is paid by its partners month after month (repeated relationships,
    so it is no shell)."""
    for month in range(3):
        for i, p in enumerate(partners):
            world.txn(account, p, 40, start + month * 30 * DAY + i)
            world.txn(p, account, 45, start + month * 30 * DAY + i + 1)


def pay(world: World, hops: list[tuple[str, str, float]], usd: float = 500) -> None:
    """One transfer of `usd` per (payer, payee, hours) hop."""
    for a, b, h in hops:
        world.txn(a, b, usd, h)


def background(world: World) -> None:
    """Ordinary accounts that pay each other in a long loop (too long for a ring), two busy accounts J1 and J2
    with two partners each (the accounts a ring may pass through), and the world's busiest account Q."""
    world.regulars(30)
    busy(world, "J1", ["P1", "P2"])
    busy(world, "J2", ["P3", "P4"])
    busy(world, "Q", [f"Q{i}" for i in range(8)])


def test_ring_through_busy_accounts_carried_by_shells_fires(world: World):
    background(world)
    # J1 -> S1 -> S2 -> J2 -> S3 -> J1: three shells (one payer, one payee each) and two busy accounts; amounts
    # drawn afresh and the closing hop booked first
    ids = [world.txn("J1", "S1", 841, 0), world.txn("S1", "S2", 527, 3 * DAY), world.txn("S2", "J2", 618, 9 * DAY),
           world.txn("J2", "S3", 439, 5 * DAY), world.txn("S3", "J1", 300, -2 * DAY)]
    _, hits = world.run("shell_ring")
    assert set(hits) == {"J1", "J2", "S1", "S2", "S3"}
    hit = hits["S2"]
    assert hit["value"] == 5 and sorted(hit["txn_ids"]) == sorted(ids)
    assert sorted(hit["member_ids"]) == ["J1", "J2", "S1", "S3"]
    evidence = json.loads(hit["evidence"])
    assert evidence["n_shells"] == 3 and evidence["origin_id"] == "S3" and evidence["total_usd"] == 2725
    assert "ring of 5 accounts, 3 of them with no counterparty but the ring's, that returns to S3" in hit["reason"]
    # the one-off ring rule sees it only while nothing else one-off touches it
    assert set(world.run("ring")[1]) == set(hits)
    pay(world, [("J1", "P7", DAY), ("P7", "P8", 2 * DAY), ("P8", "J1", 4 * DAY)], usd=80)  # a loop of three: too short
    assert world.run("ring")[1] == {}
    assert set(world.run("shell_ring")[1]) == {"J1", "J2", "S1", "S2", "S3"}


def test_fewer_shells_than_busy_accounts_is_chance(world: World):
    background(world)
    busy(world, "J3", ["P5", "P6"])
    # J1 -> S1 -> J2 -> J3 -> J1: one shell, three busy accounts that also pay each other
    pay(world, [("J1", "S1", 0), ("S1", "J2", DAY), ("J2", "J3", 2 * DAY), ("J3", "J1", 3 * DAY)])
    _, hits = world.run("shell_ring")
    assert hits == {}


def test_direct_hops_between_busy_accounts_are_bounded(world: World):
    background(world)
    busy(world, "J3", ["P5", "P6"])
    # J1 -> S1 -> S2 -> S3 -> J2 -> J3 -> J1: three shells carry it; J2 -> J3 -> J1 are two direct hops
    pay(world, [("J1", "S1", 0), ("S1", "S2", DAY), ("S2", "S3", 2 * DAY), ("S3", "J2", 3 * DAY),
               ("J2", "J3", 4 * DAY), ("J3", "J1", 5 * DAY)])
    _, hits = world.run("shell_ring")
    assert set(hits) == {"J1", "J2", "J3", "S1", "S2", "S3"}
    _, hits = world.run("shell_ring", max_direct_hops=1)
    assert hits == {}


def test_a_ring_of_shells_only_fires(world: World):
    background(world)
    pay(world, [("S1", "S2", 0), ("S2", "S3", DAY), ("S3", "S4", 2 * DAY), ("S4", "S1", 3 * DAY)])
    _, hits = world.run("shell_ring")
    assert set(hits) == {"S1", "S2", "S3", "S4"}
    assert json.loads(hits["S1"]["evidence"])["n_shells"] == 4


def test_ring_spanning_more_than_the_window_does_not(world: World):
    background(world)
    pay(world, [("J1", "S1", 0), ("S1", "S2", 6 * DAY), ("S2", "J2", 12 * DAY), ("J2", "S3", 18 * DAY),
               ("S3", "J1", 18 * DAY)])
    _, hits = world.run("shell_ring")
    assert hits["S1"]["value"] == 5
    _, hits = world.run("shell_ring", window="15d")
    assert hits == {}
    with pytest.raises(AssertionError, match="longer than the rule's lookback"):
        world.run("shell_ring", window="40d")  # its first hops would not be read


@pytest.mark.parametrize("days_before", [150, 20])
def test_a_hop_used_before_cites_only_the_transfers_of_the_ring(world: World, days_before: int):
    background(world)
    old = world.txn("J1", "S1", 200, -days_before * DAY)  # J1 paid S1 once before: S1 still has one payer
    ids = [world.txn("J1", "S1", 841, 0), world.txn("S1", "S2", 527, DAY), world.txn("S2", "J2", 618, 2 * DAY),
           world.txn("J2", "S3", 439, 3 * DAY), world.txn("S3", "J1", 300, 4 * DAY)]
    _, hits = world.run("shell_ring")
    assert sorted(hits["S1"]["txn_ids"]) == sorted(ids) and old not in hits["S1"]["txn_ids"]


def test_an_account_with_another_counterparty_in_the_history_is_no_shell(world: World):
    background(world)
    busy(world, "J3", ["P5", "P6"])
    # J1 -> S1 -> J2 -> S2 -> J3 -> S3 -> J1 carried by three shells ...
    hops = [("J1", "S1", 0), ("S1", "J2", DAY), ("J2", "S2", 2 * DAY), ("S2", "J3", 3 * DAY), ("J3", "S3", 4 * DAY),
            ("S3", "J1", 5 * DAY)]
    pay(world, hops)
    _, hits = world.run("shell_ring")
    assert set(hits) == {"J1", "J2", "J3", "S1", "S2", "S3"}
    # ... until S1 turns out to have paid someone else 200 days before: two shells, three busy accounts
    world.txn("S1", "P9", 60, -200 * DAY)
    _, hits = world.run("shell_ring")
    assert hits == {}


def test_a_refund_beside_a_ring_is_not_on_it(world: World):
    background(world)
    # J1 -> S1 -> J1 is a refund, not a link of a chain; J1 -> S2 -> S3 -> J2 -> J1 is a ring
    pay(world, [("J1", "S1", 0), ("S1", "J1", DAY), ("J1", "S2", 2 * DAY), ("S2", "S3", 3 * DAY),
               ("S3", "J2", 4 * DAY), ("J2", "J1", 5 * DAY)])
    _, hits = world.run("shell_ring")
    assert set(hits) == {"J1", "J2", "S2", "S3"}
    assert json.loads(hits["J1"]["evidence"])["n_shells"] == 2


def test_hub_and_service_are_not_walked_through(world: World):
    background(world)
    hops = [("J1", "S1", 0), ("S1", "S2", DAY), ("S2", "J2", 2 * DAY), ("J2", "S3", 3 * DAY), ("S3", "J1", 4 * DAY)]
    pay(world, hops)
    for i in range(20):  # J2 pays twenty payees: far more counterparties than anyone else in this world
        world.txn("J2", f"X{i}", 50, 100 * DAY + i)
    _, hits = world.run("shell_ring")
    assert hits == {}
    _, hits = world.run("shell_ring", hub_quantile=1.0)
    assert set(hits) == {"J1", "J2", "S1", "S2", "S3"}
    world.account("J2", kind="otc_desk")
    _, hits = world.run("shell_ring", hub_quantile=1.0)
    assert hits == {}


def test_a_ring_run_again_inside_the_detection_range_is_reported_there(world: World):
    background(world)
    hops = [("J1", "S1"), ("S1", "S2"), ("S2", "J2"), ("J2", "S3"), ("S3", "J1")]
    for i, (a, b) in enumerate(hops):
        world.txn(a, b, 500, -20 * DAY + i * DAY)  # once before the range, within the lookback
    ids = [world.txn(a, b, 700, i * DAY + 1) for i, (a, b) in enumerate(hops)]
    summary = detect(world.con, since=at(0), until=at(10 * DAY), only=["shell_ring"])
    rows = world.con.execute("SELECT subject_id, txn_ids FROM rule_hits WHERE run_id = ?", [summary.run_id]).fetchall()
    assert {r[0] for r in rows} == {"J1", "J2", "S1", "S2", "S3"}
    assert all(sorted(r[1]) == sorted(ids) for r in rows)


def test_a_payment_without_a_rate_is_still_a_counterparty(world: World):
    background(world)
    busy(world, "J3", ["P5", "P6"])
    pay(world, [("J1", "S1", 0), ("S1", "J2", DAY), ("J2", "S2", 2 * DAY), ("S2", "J3", 3 * DAY),
               ("J3", "S3", 4 * DAY), ("S3", "J1", 5 * DAY)])
    world.txn("S1", "P9", 60, -200 * DAY, currency="XAF", txn_id="norate")
    world.con.execute("UPDATE transactions SET amount_usd = NULL WHERE txn_id = 'norate'")
    _, hits = world.run("shell_ring")
    assert hits == {}  # S1 paid someone else too: two shells, three busy accounts


def test_more_than_two_direct_hops_is_refused(world: World):
    background(world)
    with pytest.raises(AssertionError, match="max_direct_hops must be 0, 1 or 2"):
        world.run("shell_ring", max_direct_hops=3)
