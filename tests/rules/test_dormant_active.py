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
