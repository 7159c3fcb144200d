from tests.rules.conftest import World


def path(world: World, n: int, gap_hours: float = 5, keep: float = 0.95, start: float = 10000) -> None:
    amount = start
    for i in range(n):
        world.txn(f"L{i}", f"L{i + 1}", amount, i * gap_hours)
        amount *= keep


def test_three_hops_fire_for_intermediaries(world: World):
    path(world, 3)
    _, hits = world.run("rapid_layering")
    assert set(hits) == {"L1", "L2"}
    assert hits["L1"]["value"] == 3 and hits["L1"]["score"] == 0.8 and len(hits["L1"]["txn_ids"]) == 3
    assert hits["L2"]["member_ids"] == ["L0", "L1", "L2", "L3"]


def test_two_hops_do_not(world: World):
    path(world, 2)
    _, hits = world.run("rapid_layering")
    assert hits == {}


def test_slow_or_shrinking_hops_break_the_path(world: World):
    path(world, 4, gap_hours=25)
    _, hits = world.run("rapid_layering")
    assert hits == {}
    _, hits = world.run("rapid_layering", hop_window="26h")
    assert hits["L1"]["value"] == 4


def test_amount_share_edge(world: World):
    path(world, 3, keep=0.79)
    _, hits = world.run("rapid_layering")
    assert hits == {}
    _, hits = world.run("rapid_layering", min_share=0.75)
    assert hits["L2"]["value"] == 3


def test_longest_path_and_top_band(world: World):
    path(world, 6)
    world.txn("X", "L3", 50000, 1)  # unrelated large credit does not extend the path
    _, hits = world.run("rapid_layering")
    assert hits["L3"]["value"] == 6 and hits["L3"]["score"] == 1.0


def test_onward_transfer_exactly_hop_window_later_in_the_next_bucket(world: World):
    """The onward leg is joined on the credit's hop_window-long bucket or the next: one booked exactly hop_window
    later, at the start of the next bucket, still counts."""
    path(world, 3, gap_hours=24)
    _, hits = world.run("rapid_layering")
    assert hits["L1"]["value"] == 3 and hits["L2"]["value"] == 3
    _, hits = world.run("rapid_layering", hop_window="23h")
    assert hits == {}
