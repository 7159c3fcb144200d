import json

from tests.rules.conftest import World

DAY = 24


def pay_daily(world: World, frm: str, to: str, days: range, usd: float = 500) -> None:
    for d in days:
        world.txn(frm, to, usd, d * DAY + 10)


def test_two_new_payees_paid_together_on_five_days_fire_four_do_not(world: World):
    for p in ("L1", "L2"):
        pay_daily(world, "FEEDER", p, range(4))
    _, hits = world.run("lockstep_payments")
    assert hits == {}
    for p in ("L1", "L2"):
        pay_daily(world, "FEEDER", p, range(4, 5))
    _, hits = world.run("lockstep_payments")
    h = hits["FEEDER"]
    assert h["value"] == 2 and h["score"] == 0.8
    assert sorted(h["member_ids"]) == ["L1", "L2"] and len(h["txn_ids"]) == 10
    assert json.loads(h["evidence"])["side"] == "payee" and json.loads(h["evidence"])["n_periods"] == 5
    assert "new payees in lockstep" in h["reason"]


def test_three_payees_reach_the_top_band(world: World):
    for p in ("L1", "L2", "L3"):
        pay_daily(world, "FEEDER", p, range(8))
    _, hits = world.run("lockstep_payments")
    assert hits["FEEDER"]["value"] == 3 and hits["FEEDER"]["score"] == 1.0


def test_senders_in_lockstep_into_one_collector(world: World):
    for m in ("M1", "M2"):
        pay_daily(world, m, "COLLECTOR", range(6))
    _, hits = world.run("lockstep_payments")
    assert json.loads(hits["COLLECTOR"]["evidence"])["side"] == "sender"
    assert sorted(hits["COLLECTOR"]["member_ids"]) == ["M1", "M2"]


def test_weekly_pay_of_new_hires_is_not_lockstep(world: World):
    # a small firm hires two people and pays them every Friday: four shared days in a month
    for w in range(4):
        for p in ("E1", "E2"):
            world.txn("FIRM", p, 700, w * 7 * DAY + 9)
    _, hits = world.run("lockstep_payments")
    assert hits == {}
    _, hits = world.run("lockstep_payments", min_periods=4)  # the parameter is what separates them
    assert hits["FIRM"]["value"] == 2


def test_relationships_used_over_more_than_the_window_do_not_count(world: World):
    # a shop paying its two suppliers every day for two months: standing trade, not a burst
    for p in ("SUP1", "SUP2"):
        pay_daily(world, "SHOP", p, range(60))
    _, hits = world.run("lockstep_payments")
    assert hits == {}


def test_payees_paid_on_different_days_are_not_in_lockstep(world: World):
    pay_daily(world, "FEEDER", "L1", range(0, 5))
    pay_daily(world, "FEEDER", "L2", range(3, 8))  # only two days shared
    _, hits = world.run("lockstep_payments")
    assert hits == {}


def test_payroll_accounts_are_excluded(world: World):
    world.account("PAYROLL", kind="payroll")
    for p in ("L1", "L2"):
        pay_daily(world, "PAYROLL", p, range(6))
    _, hits = world.run("lockstep_payments")
    assert hits == {}


def test_relationships_older_than_the_read_range_are_not_new(world: World):
    from rules.engine import detect
    from tests.rules.conftest import at

    for p in ("L1", "L2"):
        world.txn("FEEDER", p, 500, 10)  # paid once, seven weeks before the burst
        pay_daily(world, "FEEDER", p, range(50, 56))
    run = detect(world.con, only=["lockstep_payments"], since=at(52 * DAY), until=at(57 * DAY))
    n = world.con.execute("SELECT count(*) FROM rule_hits WHERE run_id = ?", [run.run_id]).fetchone()[0]
    assert n == 0
    world.con.execute("DELETE FROM transactions WHERE booked_at < ?", [at(20 * DAY)])  # the same burst, first contact
    run = detect(world.con, only=["lockstep_payments"], since=at(52 * DAY), until=at(57 * DAY))
    n = world.con.execute("SELECT count(*) FROM rule_hits WHERE run_id = ?", [run.run_id]).fetchone()[0]
    assert n == 1
