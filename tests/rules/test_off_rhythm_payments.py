import json

import pytest

from tests.rules.conftest import World

DAY, WEEK = 24, 24 * 7


def weekly(world: World, payer: str, payee: str, weeks: int, day: int, start_week: int = 0) -> None:
    """`payer` pays `payee` every week on the same day of the week."""
    for w in range(start_week, start_week + weeks):
        world.txn(payer, payee, 100, w * WEEK + day * DAY)


def population(world: World, strays: int = 1) -> None:
    """Forty accounts that each pay a partner weekly for twenty weeks, on their own day of the week; ten of them
    pay someone once on another day (`strays` times each): how often a rhythmic account strays."""
    for i in range(40):
        weekly(world, f"R{i}", f"P{i}", 20, day=i % 7)
    for i in range(10):
        for s in range(strays):
            world.txn(f"R{i}", f"V{i}_{s}", 60, (3 + 5 * s) * WEEK + (i % 7 + 3) * DAY)


def main_account(world: World, off_payees: list[str]) -> list[str]:
    """M pays two partners every Tuesday for twenty weeks, and pays `off_payees` on other days."""
    weekly(world, "M", "W1", 20, day=1)
    weekly(world, "M", "W2", 20, day=1)
    return [world.txn("M", p, 700 + i, (2 + 4 * i) * WEEK + (3 + i % 3) * DAY) for i, p in enumerate(off_payees)]


def test_payments_off_a_weekly_rhythm_fire(world: World):
    population(world)
    ids = main_account(world, ["X1", "X2", "X3", "X4"])
    _, hits = world.run("off_rhythm_payments")
    assert set(hits) == {"M"}
    hit = hits["M"]
    assert hit["value"] == 4 and sorted(hit["txn_ids"]) == sorted(ids)
    assert hit["member_ids"] == ["X1", "X2", "X3", "X4"]
    evidence = json.loads(hit["evidence"])
    assert evidence["n_payments"] == 44 and evidence["rhythm_pct"] == 90.9 and evidence["n_off_payees"] == 4
    assert evidence["total_usd"] == 700 + 701 + 702 + 703 and evidence["one_in"] > 41
    assert "4 payments to 4 payees off its rhythm, where 90.9 % of its 44 payments fall on the same days" in hit["reason"]


def test_one_stray_payee_is_not_a_dispersal(world: World):
    population(world)
    main_account(world, ["X1", "X1", "X1", "X1"])
    _, hits = world.run("off_rhythm_payments")
    assert hits == {}
    _, hits = world.run("off_rhythm_payments", min_payees=1)
    assert set(hits) == {"M"}


def test_where_rhythmic_accounts_often_stray_it_is_ordinary(world: World):
    population(world, strays=2)  # ten of forty rhythmic accounts pay two strangers off their day: 20 strays
    main_account(world, ["X1", "X2", "X3", "X4"])
    _, hits = world.run("off_rhythm_payments")
    assert hits == {}


def test_an_account_without_a_rhythm_is_not_judged(world: World):
    population(world)
    # N pays on every day of the week: no rhythm to stray from, however many payees it has
    for i in range(44):
        world.txn("N", f"Y{i % 11}", 100, i * 3 * DAY + 5)
    _, hits = world.run("off_rhythm_payments")
    assert hits == {}


def test_too_many_strays_is_no_rhythm(world: World):
    population(world)
    main_account(world, [f"X{i}" for i in range(6)])  # 6 of 46 payments off its day: more than max_off_share
    _, hits = world.run("off_rhythm_payments")
    assert hits == {}
    _, hits = world.run("off_rhythm_payments", max_off_share=0.15)
    assert hits["M"]["value"] == 6


def test_the_period_is_whole_days(world: World):
    population(world)
    main_account(world, ["X1", "X2", "X3", "X4"])
    _, hits = world.run("off_rhythm_payments", period="14d")  # a weekly payer keeps a two-week rhythm too
    assert set(hits) == {"M"}
    with pytest.raises(AssertionError, match="whole number of days"):
        world.run("off_rhythm_payments", period="36h")


def test_a_service_is_not_a_subject(world: World):
    population(world)
    main_account(world, ["X1", "X2", "X3", "X4"])
    world.account("M", kind="payroll")
    _, hits = world.run("off_rhythm_payments")
    assert hits == {}


def test_its_own_payees_paid_on_another_day_are_no_strays(world: World):
    population(world)
    for w in range(20):  # twice (a bank holiday) both standing orders go out on Wednesday instead of Tuesday
        day = 2 if w in (5, 12) else 1
        world.txn("M", "W1", 100, w * WEEK + day * DAY)
        world.txn("M", "W2", 100, w * WEEK + day * DAY)
    _, hits = world.run("off_rhythm_payments")
    assert hits == {}


def test_strays_on_one_day_of_a_longer_period_do_not_make_it_a_rhythm_day(world: World):
    population(world)
    weekly(world, "M", "W1", 20, day=1)
    weekly(world, "M", "W2", 20, day=1)
    for i in range(4):  # four strangers, each paid on the same day of the fortnight
        world.txn("M", f"X{i}", 700, (2 + 4 * i) * WEEK + 4 * DAY)
    assert set(world.run("off_rhythm_payments")[1]) == {"M"}
    assert set(world.run("off_rhythm_payments", period="14d")[1]) == {"M"}


def test_a_payment_on_top_of_a_regular_payees_own_is_a_stray(world: World):
    population(world)
    weekly(world, "M", "W1", 20, day=1)
    weekly(world, "M", "W2", 20, day=1)
    ids = [world.txn("M", p, 700, w * WEEK + 4 * DAY) for p, w in (("W1", 3), ("W2", 7), ("X1", 11), ("X2", 15))]
    _, hits = world.run("off_rhythm_payments")
    assert hits["M"]["member_ids"] == ["W1", "W2", "X1", "X2"] and sorted(hits["M"]["txn_ids"]) == sorted(ids)


def test_a_first_payment_off_the_day_before_a_standing_order_begins_is_a_stray(world: World):
    population(world)
    weekly(world, "M", "W1", 20, day=1)
    weekly(world, "M", "W2", 20, day=1)
    ids = [world.txn("M", p, 700, w * WEEK + 4 * DAY) for p, w in (("X1", 5), ("X2", 9), ("W3", 2), ("W4", 2))]
    weekly(world, "M", "W3", 3, day=1, start_week=3)  # paid on Tuesdays from the next week on
    weekly(world, "M", "W4", 3, day=1, start_week=3)
    _, hits = world.run("off_rhythm_payments")
    assert hits["M"]["member_ids"] == ["W3", "W4", "X1", "X2"] and sorted(hits["M"]["txn_ids"]) == sorted(ids)
