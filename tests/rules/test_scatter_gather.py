from tests.rules.conftest import World


def scatter(world: World, k: int, forward_after: float = 10) -> None:
    for i in range(k):
        world.txn("SRC", f"M{i}", 1000, i)
        world.txn(f"M{i}", "SINK", 950, i + forward_after)


def test_three_intermediaries_fire_for_sink_and_source(world: World):
    scatter(world, 3)
    _, hits = world.run("scatter_gather")
    assert set(hits) == {"SRC", "SINK"}
    assert hits["SINK"]["value"] == 3 and hits["SINK"]["score"] == 0.8 and len(hits["SINK"]["txn_ids"]) == 6
    assert {"M0", "M1", "M2", "SRC"} <= set(hits["SINK"]["member_ids"])


def test_two_intermediaries_do_not(world: World):
    scatter(world, 2)
    world.txn("SRC", "M9", 1000, 1)  # a third payee that never forwards to the sink
    _, hits = world.run("scatter_gather")
    assert hits == {}


def test_forwarding_after_window_does_not_count_unless_overridden(world: World):
    scatter(world, 3, forward_after=80)
    _, hits = world.run("scatter_gather")
    assert hits == {}
    _, hits = world.run("scatter_gather", window="4d")
    assert hits["SINK"]["value"] == 3
