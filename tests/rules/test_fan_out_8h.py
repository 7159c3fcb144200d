from tests.rules.conftest import World


def test_fires_at_five_payees_within_8h_not_four(world: World):
    for i in range(4):
        world.txn("HUB", f"P{i}", 100, i)
    world.txn("HUB", "cash", 100, 1.5, channel="cash_withdrawal")  # cash is not a payee
    _, hits = world.run("fan_out_8h")
    assert hits == {}
    world.txn("HUB", "P4", 100, 7.5)
    _, hits = world.run("fan_out_8h")
    assert hits["HUB"]["value"] == 5 and hits["HUB"]["score"] == 0.7
    assert sorted(hits["HUB"]["member_ids"]) == [f"P{i}" for i in range(5)]


def test_payee_outside_window_and_override(world: World):
    for i in range(5):
        world.txn("HUB", f"P{i}", 100, i * 2.5)  # spans 10 h
    _, hits = world.run("fan_out_8h")
    assert hits == {}
    _, hits = world.run("fan_out_8h", window="12h")
    assert hits["HUB"]["value"] == 5


def test_payees_paid_again_and_again_do_not_count(world: World):
    # a household paying the same five people (rent, school, family) every month: not a mule dispersing
    for month in range(3):
        for i in range(5):
            world.txn("HOME", f"P{i}", 300, month * 24 * 30 + i)
    _, hits = world.run("fan_out_8h")
    assert hits == {}
    _, hits = world.run("fan_out_8h", max_payments_per_payee=3)
    assert hits["HOME"]["value"] == 5
