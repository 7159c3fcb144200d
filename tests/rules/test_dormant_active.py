from tests.rules.conftest import World


def wake(world: World, quiet_days: float, n: int) -> None:
    world.txn("OLD", "ACC", 50, 0)
    start = quiet_days * 24
    for i in range(n):
        world.txn(f"C{i}", "ACC", 700, start + i * 10)


def test_fires_after_ninety_quiet_days_with_five_counterparties(world: World):
    wake(world, 90, 5)
    _, hits = world.run("dormant_active")
    h = hits["ACC"]
    assert h["value"] == 5 and h["score"] == 0.8 and "90 quiet days" in h["reason"]


def test_four_counterparties_or_short_quiet_spell_do_not(world: World):
    wake(world, 90, 4)
    _, hits = world.run("dormant_active")
    assert hits == {}
    _, hits = world.run("dormant_active", dormant="100d", min_counterparties=4)
    assert hits == {}
    _, hits = world.run("dormant_active", min_counterparties=4)
    assert hits["ACC"]["value"] == 4


def test_opening_date_counts_as_last_activity_when_the_data_covers_it(world: World):
    world.txn("X", "Y", 10, -24 * 250)  # the loaded data starts before the opening
    world.account("ACC", opened_hours=-24 * 200)
    for i in range(5):
        world.txn(f"C{i}", "ACC", 700, i)
    _, hits = world.run("dormant_active")
    assert hits["ACC"]["value"] == 5


def test_opened_before_the_data_starts_is_unobserved_not_dormant(world: World):
    world.account("ACC", opened_hours=-24 * 2000)
    for i in range(5):
        world.txn(f"C{i}", "ACC", 700, i)
    _, hits = world.run("dormant_active")
    assert hits == {}


def test_service_accounts_are_not_subjects(world: World):
    world.account("ACC", kind="merchant")
    wake(world, 90, 6)
    _, hits = world.run("dormant_active")
    assert hits == {}


def _daily_hits(world: World, day_hours: float) -> set[str]:
    """Detect over one day (a daily batch: the rule reads its 400-day lookback before it)."""
    from rules.engine import detect
    from tests.rules.conftest import at

    s = detect(world.con, since=at(day_hours), until=at(day_hours + 24), only=["dormant_active"])
    rows = world.con.execute("SELECT subject_id FROM rule_hits WHERE run_id = ?", [s.run_id]).fetchall()
    return {r[0] for r in rows}


def test_daily_run_finds_a_wake_up_in_its_day_and_skips_accounts_active_in_the_quiet_spell(world: World):
    day = 24 * 120
    for acc, last_seen_days_before in (("QUIET", 100), ("BUSY", 30)):
        world.txn("OLD", acc, 50, day - 24 * last_seen_days_before)
        for i in range(5):
            world.txn(f"{acc}-C{i}", acc, 700, day + 1 + i)
    world.txn("OLD", "LATER", 50, 0)  # wakes up the day after: outside the range
    for i in range(5):
        world.txn(f"L{i}", "LATER", 700, day + 30 + i)
    assert _daily_hits(world, day) == {"QUIET"}
    assert _daily_hits(world, day + 24) == {"LATER"}
