from rules.engine import detect
from tests.rules.conftest import World, at


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
    scatter(world, 3, forward_after=24 * 31)
    _, hits = world.run("scatter_gather")
    assert hits == {}
    _, hits = world.run("scatter_gather", window="32d")
    assert hits["SINK"]["value"] == 3


def test_amounts_need_not_be_conserved_unless_asked(world: World):
    for i in range(3):  # each intermediary passes on a third of what it got (fees, splits, simulators' amounts)
        world.txn("SRC", f"M{i}", 1000, i)
        world.txn(f"M{i}", "SINK", 330, i + 10)
    _, hits = world.run("scatter_gather")
    assert hits["SINK"]["value"] == 3
    _, hits = world.run("scatter_gather", min_pass_share=0.8)
    assert hits == {}


def test_repeat_relationships_do_not_count(world: World):
    # payroll -> staff -> the same landlord, every month: standing relationships, not layering
    for month in range(3):
        for i in range(3):
            world.txn("SRC", f"M{i}", 1000, month * 24 * 30 + i)
            world.txn(f"M{i}", "SINK", 400, month * 24 * 30 + i + 10)
    _, hits = world.run("scatter_gather")
    assert hits == {}
    _, hits = world.run("scatter_gather", max_payments_per_pair=3)
    assert hits["SINK"]["value"] == 3


def test_scatter_legs_months_apart_are_not_one_episode(world: World):
    for i in range(3):  # one intermediary every two months: accounts that meet now and then
        world.txn("SRC", f"M{i}", 1000, i * 24 * 60)
        world.txn(f"M{i}", "SINK", 950, i * 24 * 60 + 24)
    _, hits = world.run("scatter_gather")
    assert hits == {}
    _, hits = world.run("scatter_gather", scatter_window="130d")
    assert hits["SINK"]["value"] == 3


def test_date_only_onward_leg_booked_before_the_incoming_one_counts(world: World):
    for i in range(3):
        world.txn("SRC", f"M{i}", 1000, 10 + i)
        world.txn(f"M{i}", "SINK", 970, 0)  # date-only extract: booked at midnight of the same day
    _, hits = world.run("scatter_gather")
    assert hits["SINK"]["value"] == 3
    _, hits = world.run("scatter_gather", clock_slack="1h")
    assert hits == {}


def test_a_daily_run_sees_older_history_of_the_relationships(world: World):
    # the source paid M0..M2 two months before the day; the day's scatter-gather through them is not one-time
    for i in range(3):
        world.txn("SRC", f"M{i}", 1000, i)
    day = 24 * 60
    for i in range(3):
        world.txn("SRC", f"M{i}", 1000, day + i)
        world.txn(f"M{i}", "SINK", 950, day + i + 10)
    summary = detect(world.con, since=at(day), until=at(day + 24), only=["scatter_gather"])
    assert world.con.execute("SELECT count(*) FROM rule_hits WHERE run_id = ?", [summary.run_id]).fetchone()[0] == 0
    summary = detect(world.con, since=at(day), until=at(day + 24), only=["scatter_gather"],
                     config_path=world.config({"rules": {"scatter_gather": {"parameters": {"max_payments_per_pair": 2}}}}))
    assert world.con.execute("SELECT count(*) FROM rule_hits WHERE run_id = ?", [summary.run_id]).fetchone()[0] == 2
