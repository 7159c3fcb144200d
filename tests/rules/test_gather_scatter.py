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
