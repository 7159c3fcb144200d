from tests.rules.conftest import World


def hub(world: World) -> None:
    for i in range(3):
        world.txn(f"V{i}", "HUB", 1000, i)
    world.account("BINANCE_DEP", kind="vasp_deposit")
    world.account("HUB")


def test_fires_at_seventy_percent_to_vasp(world: World):
    hub(world)
    world.txn("HUB", "BINANCE_DEP", 2100, 20)
    world.txn("HUB", "SHOP", 500, 21)
    _, hits = world.run("off_ramp")
    assert hits["HUB"]["value"] == 0.7 and hits["HUB"]["member_ids"] == ["BINANCE_DEP", "V0", "V1", "V2"]  # off-ramp + senders


def test_below_seventy_percent_or_too_late(world: World):
    hub(world)
    world.txn("HUB", "BINANCE_DEP", 2000, 20)
    world.txn("HUB", "BINANCE_DEP", 1000, 2 + 73)  # after the 72 h window
    _, hits = world.run("off_ramp")
    assert hits == {}
    _, hits = world.run("off_ramp", min_share=0.6)
    assert hits["HUB"]["value"] == round(2000 / 3000, 6) or abs(hits["HUB"]["value"] - 2000 / 3000) < 1e-9


def test_crypto_rail_counts_without_kyc(world: World):
    for i in range(3):
        world.txn(f"V{i}", "HUB", 1000, i)
    world.txn("HUB", "tron:TXYZ", 3000, 10, rail="crypto", channel="onchain")
    _, hits = world.run("off_ramp")
    assert hits["HUB"]["value"] == 1.0


def test_skips_without_kinds_or_crypto(world: World):
    for i in range(3):
        world.txn(f"V{i}", "HUB", 1000, i)
    rr, hits = world.run("off_ramp")
    assert rr.status == "skipped" and "crypto" in rr.note and hits == {}


def test_spending_far_more_than_the_fan_in_or_a_service_hub_does_not(world: World):
    hub(world)
    world.txn("HUB", "BINANCE_DEP", 4600, 20)  # > 1.5 x the 3000 gathered: the holder's own money
    _, hits = world.run("off_ramp")
    assert hits == {}
    _, hits = world.run("off_ramp", max_ratio=2.0)
    assert hits["HUB"]["value"] == 1.0


def test_otc_desk_is_not_a_hub(world: World):
    for i in range(3):
        world.txn(f"V{i}", "OTC", 1000, i)
    world.account("OTC", kind="otc_desk")
    world.account("BINANCE_DEP", kind="vasp_deposit")
    world.txn("OTC", "BINANCE_DEP", 2900, 20)
    _, hits = world.run("off_ramp")
    assert hits == {}


def test_senders_must_come_within_one_window(world: World):
    world.account("BINANCE_DEP", kind="vasp_deposit")
    world.account("HUB")
    for i in range(3):
        world.txn(f"V{i}", "HUB", 1000, i * 100)  # three senders, but 100 h apart: no fan-in episode
    world.txn("HUB", "BINANCE_DEP", 2900, 210)
    _, hits = world.run("off_ramp")
    assert hits == {}
