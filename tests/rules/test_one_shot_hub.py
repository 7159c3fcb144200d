import json

from rules.engine import detect
from tests.rules.conftest import World, at

DAY = 24



def test_single_use_accounts_on_both_sides_within_the_window(world: World):
    world.regulars()
    world.txn("IN0", "HUB", 700, 10 * DAY)  # IN0 and OUT0 are seen in this transfer only
    world.txn("HUB", "OUT0", 300, 25 * DAY)
    _, hits = world.run("one_shot_hub")
    assert set(hits) == {"HUB"}
    hit = hits["HUB"]
    assert hit["value"] == 1 and hit["score"] == 0.8
    assert sorted(hit["member_ids"]) == ["IN0", "OUT0"] and len(hit["txn_ids"]) == 2
    assert "1 senders and 1 payees, each seen in no other transaction" in hit["reason"]
    for i in (1, 2):  # more single-use senders and payees in the same month: the top band
        world.txn(f"IN{i}", "HUB", 500, 11 * DAY + i)
        world.txn("HUB", f"OUT{i}", 400, 20 * DAY + i)
    _, hits = world.run("one_shot_hub")
    assert hits["HUB"]["value"] == 3 and hits["HUB"]["score"] == 1.0
    evidence = json.loads(hits["HUB"]["evidence"])
    assert evidence["in_usd"] == 1700 and evidence["out_usd"] == 1100


def test_payees_beyond_the_window_or_before_the_credit_do_not_count(world: World):
    world.regulars()
    world.txn("HUB", "OUT0", 300, 5 * DAY)  # paid before the credit
    world.txn("IN0", "HUB", 700, 10 * DAY)
    world.txn("HUB", "OUT1", 300, 45 * DAY)  # 35 days after it
    _, hits = world.run("one_shot_hub")
    assert hits == {}
    _, hits = world.run("one_shot_hub", window="40d")
    assert set(hits) == {"HUB"} and hits["HUB"]["member_ids"] == ["IN0", "OUT1"]


def test_counterparties_seen_elsewhere_are_not_single_use(world: World):
    world.regulars()
    world.txn("IN0", "HUB", 700, 10 * DAY)
    world.txn("HUB", "OUT0", 300, 25 * DAY)
    world.txn("OUT0", "cash", 250, 26 * DAY, channel="cash_withdrawal")  # the payee is a customer who withdraws
    _, hits = world.run("one_shot_hub")
    assert hits == {}


def test_the_bar_rises_where_single_use_counterparties_are_common(world: World):
    world.regulars()
    for i in range(5):  # an eighth of the town relays a stranger's payment to another stranger each month
        world.txn(f"S{i}", f"A{i}", 100, 3 * DAY + i)
        world.txn(f"A{i}", f"P{i}", 90, 9 * DAY + i)
    _, hits = world.run("one_shot_hub")
    assert hits == {}
    for i in range(3):  # three of each through one account: above the town's p99
        world.txn(f"IN{i}", "HUB", 500, 40 * DAY + i)
        world.txn("HUB", f"OUT{i}", 450, 50 * DAY + i)
    _, hits = world.run("one_shot_hub")
    assert set(hits) == {"HUB"}
    assert 1 <= json.loads(hits["HUB"]["evidence"])["population_bar"] < 3


def test_service_accounts_are_not_subjects(world: World):
    world.regulars()
    world.account("EXCH", kind="otc_desk")
    world.txn("IN0", "EXCH", 700, 10 * DAY)
    world.txn("EXCH", "OUT0", 300, 12 * DAY)
    _, hits = world.run("one_shot_hub")
    assert hits == {}


def test_a_daily_run_reports_the_new_episode_not_an_earlier_one_as_large(world: World):
    world.regulars()
    for day in (20, 300):  # two episodes of two single-use senders and payees each, months apart
        for i in range(2):
            world.txn(f"IN{day}_{i}", "HUB", 500, day * DAY + i)
            world.txn("HUB", f"OUT{day}_{i}", 450, (day + 5) * DAY + i)
    summary = detect(world.con, since=at(303 * DAY), until=at(306 * DAY), only=["one_shot_hub"])
    rows = world.con.execute("SELECT subject_id, member_ids FROM rule_hits WHERE run_id = ?", [summary.run_id]).fetchall()
    assert [(s, sorted(m)) for s, m in rows] == [("HUB", ["IN300_0", "IN300_1", "OUT300_0", "OUT300_1"])]
    summary = detect(world.con, since=at(200 * DAY), until=at(250 * DAY), only=["one_shot_hub"])  # nothing ends then
    assert world.con.execute("SELECT count(*) FROM rule_hits WHERE run_id = ?", [summary.run_id]).fetchone()[0] == 0
