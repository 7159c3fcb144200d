from tests.rules.conftest import World
from tests.rules.trafficking_world import DAY


def _population(world: World) -> None:
    """Everyday payments: the population's yardstick for a large payment."""
    for i in range(40):
        world.txn(f"A{i % 8}", f"B{i % 5}", 40 + i, i * 6)


def _families(world: World, n: int, usd: float = 3000) -> None:
    world.account("BROKER", country="KH", holder_id="p-broker")
    world.account("OTC", country="KH", kind="otc_desk")
    for i in range(n):
        world.party(f"f{i}", name=f"Nguyen Van Binh{i}" if i % 2 else f"Nguyen Thi Lan{i}")
        world.account(f"F{i}", country="VN", holder_id=f"f{i}")
        world.txn(f"F{i}", "BROKER", usd, 10 * DAY + i * 30)


def test_two_families_paying_a_broker_who_passes_it_to_an_otc_desk_make_a_hit(world: World):
    _population(world)
    _families(world, 2)
    world.txn("BROKER", "OTC", 5700, 12 * DAY)
    _, hits = world.run("release_payments")
    h = hits["BROKER"]
    assert h["value"] == 2 and h["score"] == 0.8
    assert "2 of them one family" in h["reason"] and "0.95 passed on" in h["reason"]
    assert set(h["member_ids"]) == {"F0", "F1", "OTC"} and len(h["txn_ids"]) == 3


def test_one_payer_does_not(world: World):
    _population(world)
    _families(world, 1)
    world.txn("BROKER", "OTC", 2800, 12 * DAY)
    _, hits = world.run("release_payments")
    assert hits == {}


def test_money_passed_to_an_ordinary_account_is_not_towards_a_compound(world: World):
    _population(world)
    _families(world, 2)
    world.txn("BROKER", "SHOP", 5700, 12 * DAY)
    _, hits = world.run("release_payments")
    assert hits == {}
    _, hits = world.run("release_payments", min_onward_share=0.0)  # the onward test alone stopped it
    assert hits["BROKER"]["value"] == 2


def test_money_kept_by_the_payee_is_not_passed_on(world: World):
    _population(world)
    _families(world, 2)
    world.txn("BROKER", "OTC", 1000, 12 * DAY)
    _, hits = world.run("release_payments")
    assert hits == {}
    _, hits = world.run("release_payments", min_passed_share=0.1, min_onward_share=0.1)
    assert hits["BROKER"]["value"] == 2


def test_migrant_remittances_home_repeat_and_are_not_release_payments(world: World):
    """A worker abroad sends money home every month; the family spends it, part through an exchange."""
    _population(world)
    world.account("HOME", country="VN", holder_id="p-home")
    world.account("OTC", country="VN", kind="otc_desk")
    for m in range(2):
        world.account(f"MIG{m}", country="MY", holder_id=f"mig{m}")
        for k in range(3):
            world.txn(f"MIG{m}", "HOME", 900, (k * 30 + m) * DAY)
    world.txn("HOME", "OTC", 1500, 31 * DAY)
    _, hits = world.run("release_payments")
    assert hits == {}


def test_unrelated_victims_paying_a_collector_are_not_a_family(world: World):
    """Scam victims paying a mule large sums once, passed to an OTC desk: the fraud typologies' case, not this."""
    _population(world)
    world.account("BROKER", country="KH", holder_id="p-broker")
    world.account("OTC", country="KH", kind="otc_desk")
    for i, name in enumerate(("Somchai Jaidee", "Maria Santos", "Ahmad bin Ismail")):
        world.party(f"v{i}", name=name, address=f"{i} Road")
        world.account(f"V{i}", country="TH", holder_id=f"v{i}")
        world.txn(f"V{i}", "BROKER", 3000, 10 * DAY + i * 30)
    world.txn("BROKER", "OTC", 8500, 12 * DAY)
    _, hits = world.run("release_payments")
    assert hits == {}


def test_a_layer_relaying_what_it_just_received_is_not_paying_from_its_own_funds(world: World):
    _population(world)
    _families(world, 2)
    world.txn("SRC", "F0", 2900, 10 * DAY - 5)  # F0 had just received the money it pays
    world.txn("BROKER", "OTC", 5700, 12 * DAY)
    _, hits = world.run("release_payments")
    assert hits == {}
