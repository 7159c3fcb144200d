import json

from tests.rules.conftest import World


def test_three_in_three_out_fires_two_out_does_not(world: World):
    for i in range(3):
        world.txn(f"S{i}", "HUB", 1000, i)
    world.txn("HUB", "P0", 900, 5)
    world.txn("HUB", "P1", 900, 6)
    _, hits = world.run("gather_scatter")
    assert hits == {}
    world.txn("HUB", "P2", 900, 7)
    _, hits = world.run("gather_scatter")
    assert hits["HUB"]["value"] == 3 and len(hits["HUB"]["txn_ids"]) == 6


def test_payouts_outside_window_and_override(world: World):
    for i in range(3):
        world.txn(f"S{i}", "HUB", 1000, i)
    for i in range(3):
        world.txn("HUB", f"P{i}", 900, 80 + i)
    _, hits = world.run("gather_scatter")
    assert hits == {}
    _, hits = world.run("gather_scatter", window="5d")
    assert hits["HUB"]["value"] == 3


def test_a_hub_that_deals_with_strangers_every_day_is_not_raised_for_an_ordinary_window(world: World):
    """Three strangers in and three out within days: improbable for a quiet account, ordinary for one that meets
    a stranger each way every day (judged at the account's own rate outside the window)."""
    for hub in ("QUIET", "BUSY"):
        for i in range(3):
            world.txn(f"{hub}S{i}", hub, 1000, 24 * 60 + i)
            world.txn(hub, f"{hub}P{i}", 950, 24 * 60 + 5 + i)
    for day in range(58):  # BUSY's own history: a new payer and a new payee every day for two months
        world.txn(f"BUSYin{day}", "BUSY", 40, 24 * day)
        world.txn("BUSY", f"BUSYout{day}", 40, 24 * day + 1)
    _, hits = world.run("gather_scatter")
    assert set(hits) == {"QUIET"}
    assert json.loads(hits["QUIET"]["evidence"])["one_in"] > 1 and "chance below 1 in" in hits["QUIET"]["reason"]
    _, hits = world.run("gather_scatter", max_chance_hits=1e12)  # a bar nothing is below: both windows count
    assert set(hits) == {"QUIET", "BUSY"}
