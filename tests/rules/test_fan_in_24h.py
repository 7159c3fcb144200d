from tests.rules.conftest import World


def fan_in(world: World, n: int, *, spread_hours: float = 20, to: str = "MULE") -> None:
    for i in range(n):
        world.txn(f"V{i}", to, 500 + i, i * spread_hours / max(n - 1, 1))


def test_fires_at_five_senders_in_24h(world: World):
    fan_in(world, 5)
    rr, hits = world.run("fan_in_24h")
    assert rr.status == "ok"
    assert set(hits) == {"MULE"}
    h = hits["MULE"]
    assert h["value"] == 5 and h["score"] == 0.7
    assert len(h["txn_ids"]) == 5 and sorted(h["member_ids"]) == [f"V{i}" for i in range(5)]
    assert "5 distinct senders" in h["reason"] and "24h" in h["reason"]


def test_four_senders_is_below_the_band(world: World):
    fan_in(world, 4)
    rr, hits = world.run("fan_in_24h")
    assert hits == {}


def test_senders_spread_over_more_than_the_window_do_not_count(world: World):
    fan_in(world, 5, spread_hours=30)  # 7.5 h apart: at most 4 inside any 24 h
    _, hits = world.run("fan_in_24h")
    assert hits == {}


def test_top_band_at_ten_and_cash_unknown_ignored(world: World):
    fan_in(world, 10)
    world.txn("cash", "MULE", 900, 1, channel="cash_deposit")
    world.txn("unknown:x", "MULE", 900, 2)
    _, hits = world.run("fan_in_24h")
    assert hits["MULE"]["value"] == 10 and hits["MULE"]["score"] == 1.0


def test_parameter_override_changes_outcome(world: World):
    fan_in(world, 5)
    _, hits = world.run("fan_in_24h", min_senders=6)
    assert hits == {}
    _, hits = world.run("fan_in_24h", window="2h")
    assert hits == {}


def test_merchant_is_not_a_mule(world: World):
    world.account("SHOP", kind="merchant")
    for i in range(8):
        world.txn(f"C{i}", "SHOP", 20, i)
    _, hits = world.run("fan_in_24h")
    assert hits == {}
    _, hits = world.run("fan_in_24h", service_kinds=[])
    assert hits["SHOP"]["value"] == 8
