import json

from tests.rules.conftest import World

DAY = 24


def burst(world: World, payer: str, payee: str, days: int, start_day: int = 0) -> list[str]:
    return [world.txn(payer, payee, 400 + d, (start_day + d) * DAY + 9) for d in range(days)]


def test_daily_burst_into_an_account_that_exists_for_it_fires(world: World):
    world.regulars(20)
    world.txn("P", "Shop", 30, -20 * DAY)  # the payer has a life of its own; the payee has none but the burst
    ids = burst(world, "P", "L", 6)
    _, hits = world.run("daily_burst")
    assert set(hits) == {"P", "L"}
    hit = hits["L"]
    assert hit["value"] == 6 and sorted(hit["txn_ids"]) == sorted(ids) and hit["member_ids"] == ["P"]
    assert hits["P"]["member_ids"] == ["L"]
    evidence = json.loads(hit["evidence"])
    assert evidence["payer_counterparties"] == 2 and evidence["n_transfers"] == 6
    assert evidence["total_usd"] == sum(400 + d for d in range(6))
    assert "used in each of 6 consecutive periods of 24h and never otherwise (6 transfers), into an account with no" \
        in hit["reason"]


def test_a_burst_between_two_busy_accounts_is_not_enough(world: World):
    world.regulars(20)
    world.txn("P", "Shop", 30, -20 * DAY)
    world.txn("Friend", "L", 30, -10 * DAY)  # L has another counterparty too
    burst(world, "P", "L", 6)
    _, hits = world.run("daily_burst")
    assert hits == {}


def test_a_payer_with_no_other_counterparty_is_not_enough(world: World):
    world.regulars(20)
    world.txn("Friend", "L", 30, -10 * DAY)  # the payee has a life of its own; the payer only this burst
    burst(world, "P", "L", 6)
    _, hits = world.run("daily_burst")
    assert hits == {}


def test_a_gap_or_a_later_payment_is_no_burst(world: World):
    world.regulars(20)
    burst(world, "P", "L", 3)
    burst(world, "P", "L", 3, start_day=4)  # a day off in the middle: two runs, not one
    _, hits = world.run("daily_burst")
    assert hits == {}
    burst(world, "Q", "M", 6)
    world.txn("Q", "M", 50, 40 * DAY)  # the relationship goes on later: it is not a burst
    _, hits = world.run("daily_burst")
    assert hits == {}


def test_fewer_days_than_min_days_do_not(world: World):
    world.regulars(20)
    burst(world, "P", "L", 4)
    _, hits = world.run("daily_burst")
    assert hits == {}
    _, hits = world.run("daily_burst", min_days=4)
    assert set(hits) == {"P", "L"}
    assert json.loads(hits["P"]["evidence"])["payer_counterparties"] == 1


def test_weekly_payments_are_no_daily_burst_but_weekly_periods_are(world: World):
    world.regulars(20)
    for w in range(6):
        world.txn("P", "L", 100, w * 7 * DAY)
    _, hits = world.run("daily_burst")
    assert hits == {}
    _, hits = world.run("daily_burst", period="7d")
    assert set(hits) == {"P", "L"}
    assert "used in each of 6 consecutive periods of 7d" in hits["L"]["reason"]


def test_a_payroll_account_is_excluded(world: World):
    world.regulars(20)
    burst(world, "P", "L", 6)
    world.account("P", kind="payroll")
    _, hits = world.run("daily_burst")
    assert hits == {}


def test_paying_back_the_payer_is_no_other_counterparty(world: World):
    world.regulars(20)
    world.txn("P", "Shop", 30, -20 * DAY)
    burst(world, "P", "L", 6)
    world.txn("L", "P", 100, 10 * DAY)  # L returns some of it: still no one but P
    _, hits = world.run("daily_burst")
    assert set(hits) == {"P", "L"}


def test_total_usd_is_null_when_a_transfer_has_no_rate(world: World):
    world.regulars(20)
    world.txn("P", "Shop", 30, -20 * DAY)
    burst(world, "P", "L", 5)
    world.txn("P", "L", 9000, 5 * DAY + 9, currency="XAF", txn_id="norate")  # a sixth day, no USD rate
    world.con.execute("UPDATE transactions SET amount_usd = NULL WHERE txn_id = 'norate'")
    _, hits = world.run("daily_burst")
    evidence = json.loads(hits["L"]["evidence"])
    assert evidence["n_transfers"] == 6 and evidence["total_usd"] is None
