from tests.rules.conftest import World


def deposit(world: World, usd: float, hours: float, **kw) -> str:
    return world.txn("cash", "ACC", usd, hours, channel="cash_deposit", **kw)


def test_three_near_threshold_deposits_fire(world: World):
    for h, usd in ((0, 9000), (30, 9500), (100, 9990)):
        deposit(world, usd, h)
    deposit(world, 10000, 50)   # at the threshold: reported anyway, not structuring
    deposit(world, 8999.99, 60)  # under 90 %
    _, hits = world.run("structuring_cash")
    assert hits["ACC"]["value"] == 3 and hits["ACC"]["score"] == 0.8


def test_two_is_not_enough_and_window_matters(world: World):
    deposit(world, 9500, 0)
    deposit(world, 9500, 10)
    deposit(world, 9500, 7 * 24 + 1)  # just outside 7 days of the first
    _, hits = world.run("structuring_cash")
    assert hits == {}


def test_jurisdiction_threshold_and_currency_from_config(world: World):
    # Thailand-style: THB 2,000,000 threshold; amounts in THB, USD values much lower
    for h in (0, 5, 9):
        deposit(world, 54000, h, currency="THB", amount=1_950_000)
    _, hits = world.run("structuring_cash")
    assert hits == {}
    cfg = {"parameters": {"reporting_threshold": 2_000_000, "reporting_currency": "THB"}}
    _, hits = world.run("structuring_cash", config=cfg)
    assert hits["ACC"]["value"] == 3
    assert "2000000 THB" in hits["ACC"]["reason"]


def test_skips_without_cash_deposits(world: World):
    world.txn("A", "B", 100, 0)
    rr, hits = world.run("structuring_cash")
    assert rr.status == "skipped" and "cash" in rr.note and hits == {}
