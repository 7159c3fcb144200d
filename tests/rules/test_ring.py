from tests.rules.conftest import World


def ring(world: World, nodes: list[str], amounts: list[float], hours: list[float]) -> None:
    for i, (a, usd, h) in enumerate(zip(nodes, amounts, hours)):
        world.txn(a, nodes[(i + 1) % len(nodes)], usd, h)


def test_isolated_ring_of_one_off_transfers_fires_whatever_amounts_and_order(world: World):
    # amounts drawn afresh, and the closing hop booked before the second: still funds going round
    ring(world, ["A", "B", "C", "D"], [841, 527, 618, 439], [0, 72, 24 * 9, 48])
    _, hits = world.run("ring")
    assert set(hits) == {"A", "B", "C", "D"}
    assert hits["C"]["value"] == 4 and len(hits["C"]["txn_ids"]) == 4
    assert sorted(hits["C"]["member_ids"]) == ["A", "B", "D"]
    assert "isolated ring of 4 one-off transfers that returns to A" in hits["C"]["reason"]


def test_a_relationship_used_twice_is_not_one_off(world: World):
    ring(world, ["A", "B", "C", "D"], [841, 527, 618, 439], [0, 24, 48, 72])
    world.txn("B", "C", 300, 200)  # B pays C again: an ordinary, repeated relationship
    _, hits = world.run("ring")
    assert hits == {}


def test_a_tangled_component_is_not_a_ring(world: World):
    ring(world, ["A", "B", "C", "D"], [841, 527, 618, 439], [0, 24, 48, 72])
    world.txn("C", "A", 200, 90)  # a chord: the component has more relationships than accounts
    _, hits = world.run("ring")
    assert hits == {}


def test_ring_of_three_is_below_min_length(world: World):
    ring(world, ["A", "B", "C"], [500, 400, 300], [0, 24, 48])
    _, hits = world.run("ring")
    assert hits == {}
    _, hits = world.run("ring", min_length=3)
    assert set(hits) == {"A", "B", "C"}


def test_ring_spanning_more_than_the_window_does_not(world: World):
    ring(world, ["A", "B", "C", "D"], [841, 527, 618, 439], [0, 24 * 12, 24 * 24, 24 * 36])
    _, hits = world.run("ring")
    assert hits == {}
    _, hits = world.run("ring", window="40d")
    assert hits["A"]["value"] == 4


def test_hub_above_the_population_quantile_is_left_out(world: World):
    ring(world, ["A", "B", "C", "D"], [841, 527, 618, 439], [0, 24, 48, 72])
    for i in range(20):  # D pays twenty payees: far more counterparties than anyone else in this world
        world.txn("D", f"X{i}", 50, 100 + i)
    _, hits = world.run("ring")
    assert hits == {}
    _, hits = world.run("ring", hub_quantile=1.0)
    assert set(hits) == {"A", "B", "C", "D"}


def test_service_account_is_not_walked_through(world: World):
    ring(world, ["A", "B", "C", "D"], [841, 527, 618, 439], [0, 24, 48, 72])
    world.account("C", kind="otc_desk")
    _, hits = world.run("ring")
    assert hits == {}
