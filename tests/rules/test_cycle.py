from tests.rules.conftest import World


def loop(world: World, nodes: list[str], amounts: list[float], gap_hours: float = 24) -> None:
    for i, (a, usd) in enumerate(zip(nodes, amounts)):
        world.txn(a, nodes[(i + 1) % len(nodes)], usd, i * gap_hours)


def test_four_hop_cycle_returning_eighty_percent_fires_for_all_members(world: World):
    loop(world, ["A", "B", "C", "D"], [1000, 900, 850, 800])
    _, hits = world.run("cycle")
    assert set(hits) == {"A", "B", "C", "D"}
    assert hits["B"]["value"] == 0.8 and len(hits["B"]["txn_ids"]) == 4
    assert "returned to A" in hits["B"]["reason"]


def test_just_under_eighty_percent_returned_does_not(world: World):
    loop(world, ["A", "B", "C", "D"], [1000, 900, 850, 799.99])
    _, hits = world.run("cycle")
    assert hits == {}


def test_three_hop_cycle_is_below_min_length(world: World):
    # conserved triangles of one-time payments occur by chance in a large payment graph
    loop(world, ["A", "B", "C"], [1000, 900, 800])
    _, hits = world.run("cycle")
    assert hits == {}
    _, hits = world.run("cycle", min_length=3)
    assert set(hits) == {"A", "B", "C"} and hits["B"]["value"] == 0.8


def test_relationships_that_repeat_are_not_walked(world: World):
    loop(world, ["A", "B", "C", "D"], [1000, 900, 850, 800])
    world.txn("B", "C", 150, 24 * 20)  # B pays C again: a standing relationship, not a hop of round-tripped funds
    _, hits = world.run("cycle")
    assert hits == {}
    _, hits = world.run("cycle", max_payments_per_pair=2)
    assert set(hits) == {"A", "B", "C", "D"}


def test_not_time_respecting_or_too_slow(world: World):
    world.txn("B", "C", 900, 0)   # before A -> B: no cycle in time order
    world.txn("A", "B", 1000, 10)
    world.txn("C", "A", 850, 20)
    _, hits = world.run("cycle")
    assert hits == {}


def test_window_and_length_overrides(world: World):
    loop(world, ["A", "B", "C", "D"], [1000, 950, 900, 850], gap_hours=24 * 12)  # 36 days
    _, hits = world.run("cycle")
    assert hits == {}
    _, hits = world.run("cycle", window="40d")
    assert hits["D"]["value"] == 0.85
    _, hits = world.run("cycle", window="40d", max_length=3, min_length=3)
    assert hits == {}


def test_a_hop_larger_than_the_previous_is_not_a_return(world: World):
    loop(world, ["A", "B", "C", "D"], [1000, 1000, 1000, 1030])  # the closing hop carries more than it got
    _, hits = world.run("cycle")
    assert hits == {}
    _, hits = world.run("cycle", max_hop_growth=1.05)
    assert hits["A"]["value"] == 1.03


def test_two_transfer_round_trip_is_below_min_length(world: World):
    loop(world, ["A", "B"], [1000, 950])  # a payment and its refund
    _, hits = world.run("cycle")
    assert hits == {}
    _, hits = world.run("cycle", min_length=2)
    assert set(hits) == {"A", "B"}
