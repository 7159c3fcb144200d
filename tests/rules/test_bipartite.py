from tests.rules.conftest import World


def complete(world: World, senders: int, payees: int) -> None:
    h = 0
    for s in range(senders):
        for p in range(payees):
            world.txn(f"S{s}", f"R{p}", 100, h)
            h += 0.5


def test_three_shared_senders_fire(world: World):
    complete(world, 3, 2)
    _, hits = world.run("bipartite")
    assert hits["R0"]["value"] == 3 and hits["R1"]["value"] == 3
    assert "R1" in hits["R0"]["reason"]  # the peer is named in the reason
    assert len(hits["R0"]["txn_ids"]) == 6


def test_two_shared_do_not(world: World):
    complete(world, 2, 2)
    _, hits = world.run("bipartite")
    assert hits == {}


def test_busy_counterparty_is_ignored(world: World):
    complete(world, 3, 2)
    _, hits = world.run("bipartite", max_degree=1)
    assert hits == {}


def test_links_begun_more_than_a_window_apart_do_not(world: World):
    for s in range(3):  # R0 paid by S0..S2 in the first week, R1 by the same senders three weeks later
        world.txn(f"S{s}", "R0", 100, s)
        world.txn(f"S{s}", "R1", 100, 24 * 21 + s)
    _, hits = world.run("bipartite")
    assert "R0" not in hits and "R1" not in hits
    _, hits = world.run("bipartite", window="22d")
    assert hits["R0"]["value"] == 3


def test_service_accounts_are_neither_members_nor_commons(world: World):
    world.account("R0", kind="merchant")
    world.account("R1", kind="merchant")
    complete(world, 3, 2)
    _, hits = world.run("bipartite")
    assert hits == {}


def test_a_layer_wired_up_one_payment_a_day_over_two_weeks(world: World):
    for day in range(12):  # S0..S3 each pay R0..R2 once, one payment a day (a simulator's stack, dates only)
        world.txn(f"S{day // 3}", f"R{day % 3}", 100, 24 * day)
    _, hits = world.run("bipartite")
    assert hits["R0"]["value"] == 4
    _, hits = world.run("bipartite", window="7d")   # the payees' shared senders began over ten days
    assert not {"R0", "R1", "R2"} & set(hits)


def test_links_that_repeat_do_not_count(world: World):
    # three flatmates paying the same two landlords every month: standing relationships, not a layer
    for month in range(3):
        for s in range(3):
            for p in range(2):
                world.txn(f"S{s}", f"R{p}", 100, month * 24 * 30 + s + p)
    _, hits = world.run("bipartite")
    assert hits == {}
    _, hits = world.run("bipartite", max_payments_per_pair=3, window="70d")
    assert hits["R0"]["value"] == 3
