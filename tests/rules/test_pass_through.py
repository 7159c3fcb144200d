import json

from tests.rules.conftest import World


def setup(world: World, out_usd: float, out_hour: float = 30) -> None:
    world.txn("V1", "MULE", 600, 0)
    world.txn("V2", "MULE", 400, 10)
    world.txn("MULE", "NEXT", out_usd, out_hour)


def test_fires_at_ninety_percent(world: World):
    setup(world, 900)
    _, hits = world.run("pass_through")
    h = hits["MULE"]
    assert h["value"] == 0.9 and h["score"] == 0.8 and len(h["txn_ids"]) == 3
    assert float(json.loads(h["evidence"])["retained_usd"]) == 100


def test_just_below_ninety_percent(world: World):
    setup(world, 899.99)
    _, hits = world.run("pass_through")
    assert "MULE" not in hits


def test_debit_after_window_does_not_count(world: World):
    setup(world, 1000, out_hour=10 + 73)
    _, hits = world.run("pass_through")
    assert hits == {}
    _, hits = world.run("pass_through", window="4d")
    assert hits["MULE"]["value"] == 1.0


def test_override_share(world: World):
    setup(world, 800)
    _, hits = world.run("pass_through")
    assert hits == {}
    _, hits = world.run("pass_through", min_share=0.8)
    assert hits["MULE"]["value"] == 0.8


def test_single_inflow_layering_hop_fires_and_names_its_payee(world: World):
    world.txn("SRC", "HOP", 5000, 0)
    world.txn("HOP", "NEXT", 4750, 5)
    _, hits = world.run("pass_through")
    assert hits["HOP"]["value"] == 0.95 and hits["HOP"]["member_ids"] == ["NEXT"]


def test_paying_out_far_more_than_received_or_a_service_does_not(world: World):
    setup(world, 900)
    world.txn("MULE", "RENT", 5000, 200)  # spends a balance: 5,900 out of 1,000 in
    _, hits = world.run("pass_through")
    assert hits == {}
    _, hits = world.run("pass_through", max_ratio=10.0)
    assert "MULE" in hits


def test_service_kinds_are_not_subjects(world: World):
    world.account("MULE", kind="merchant")
    setup(world, 900)
    _, hits = world.run("pass_through")
    assert hits == {}


def test_forwarding_to_a_usual_payee_is_not_passing_through(world: World):
    # salary in, most of it to the same savings account every month: a household, not a mule
    for month in range(3):
        world.txn("EMPLOYER", "EARNER", 1000, month * 24 * 30)
        world.txn("EARNER", "SAVINGS", 950, month * 24 * 30 + 5)
    _, hits = world.run("pass_through")
    assert "EARNER" not in hits
    _, hits = world.run("pass_through", max_payments_per_payee=3)
    assert hits["EARNER"]["value"] == 0.95
