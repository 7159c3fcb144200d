import json

from rules.engine import detect
from tests.rules.conftest import World, at


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
    assert "5 distinct one-time senders" in h["reason"] and "24h" in h["reason"]


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


def test_repeat_payers_do_not_count(world: World):
    # five senders in a day, but three of them pay the account every week: trade or family, not victims
    fan_in(world, 5)
    for week in range(1, 4):
        for i in range(3):
            world.txn(f"V{i}", "MULE", 500, 24 * 7 * week + i)
    _, hits = world.run("fan_in_24h")
    assert hits == {}
    _, hits = world.run("fan_in_24h", max_payments_per_sender=4)
    assert hits["MULE"]["value"] == 5


def test_evidence_is_the_one_time_senders_credits(world: World):
    fan_in(world, 6)
    world.txn("RENT", "MULE", 900, 3)  # a regular payer in the same window
    world.txn("RENT", "MULE", 900, 24 * 30)
    _, hits = world.run("fan_in_24h")
    h = hits["MULE"]
    assert h["value"] == 6 and len(h["txn_ids"]) == 6 and "RENT" not in h["member_ids"]
    assert abs(json.loads(h["evidence"])["one_time_share"] - 6 / 7) < 1e-6


def test_a_daily_run_judges_senders_on_the_rules_history(world: World):
    # V0..V2 paid MULE weekly two months ago; on day 60 five senders pay: a daily run (since = day 60) reads only
    # 24 h of credits for the fan-in, but 90 days of history to see that V0..V2 are repeat payers
    for week in range(3):
        for i in range(3):
            world.txn(f"V{i}", "MULE", 500, 24 * 7 * week + i)
    for i in range(5):
        world.txn(f"V{i}", "MULE", 500, 24 * 60 + i)
    summary = detect(world.con, since=at(24 * 60), until=at(24 * 61), only=["fan_in_24h"])
    n = world.con.execute("SELECT count(*) FROM rule_hits WHERE run_id = ?", [summary.run_id]).fetchone()[0]
    assert n == 0
    for i in range(5, 8):
        world.txn(f"V{i}", "MULE", 500, 24 * 60 + i)  # three new senders: five one-time senders in the day
    summary = detect(world.con, since=at(24 * 60), until=at(24 * 61), only=["fan_in_24h"])
    row = world.con.execute("SELECT measured_value, member_ids FROM rule_hits WHERE run_id = ?", [summary.run_id]).fetchone()
    assert row[0] == 5 and sorted(row[1]) == ["V3", "V4", "V5", "V6", "V7"]
