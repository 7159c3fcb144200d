from tests.rules.conftest import World
from tests.rules.trafficking_world import DAY, HOME_IP, compound, move


def test_three_new_senders_after_the_move_make_a_hit(world: World):
    compound(world)
    move(world, "W", 10 * DAY)
    for i in range(3):
        world.txn(f"V{i}", "W", 400, 12 * DAY + i)
    _, hits = world.run("worker_turned_mule")
    h = hits["W"]
    assert h["value"] == 3 and h["score"] == 0.8 and "moved into kk_park" in h["reason"]
    assert set(h["member_ids"]) == {"V0", "V1", "V2"} and len(h["txn_ids"]) == 3


def test_two_new_senders_do_not(world: World):
    compound(world)
    move(world, "W", 10 * DAY)
    for i in range(2):
        world.txn(f"V{i}", "W", 400, 12 * DAY + i)
    _, hits = world.run("worker_turned_mule")
    assert hits == {}


def test_a_holder_who_never_moved_into_a_compound_is_not_a_hit(world: World):
    """A migrant or a traveller: logins from a new network outside any compound, then payments from friends."""
    compound(world)
    world.account("W", holder_id="p-W")
    world.event("W", 0, ip=HOME_IP)
    world.event("W", 10 * DAY, ip="198.18.4.4")
    for i in range(5):
        world.txn(f"V{i}", "W", 400, 12 * DAY + i)
    move(world, "MOVER", 10 * DAY)  # someone else did move into the compound: the rule runs
    rr, hits = world.run("worker_turned_mule")
    assert rr.status == "ok" and hits == {}


def test_an_account_that_always_had_many_senders_needs_more_than_its_own_usual(world: World):
    compound(world)
    move(world, "W", 40 * DAY)
    for i in range(4):  # four senders in the 45 days before the move: the bar is 2 x (4 + 1)
        world.txn(f"OLD{i}", "W", 100, 10 * DAY + i * 24)
    for i in range(6):
        world.txn(f"V{i}", "W", 400, 42 * DAY + i)
    _, hits = world.run("worker_turned_mule")
    assert hits == {}
    _, hits = world.run("worker_turned_mule", growth=1.0)
    assert hits["W"]["value"] == 6 and hits["W"]["evidence"]


def test_an_account_dormant_for_months_before_the_compound_used_it_is_not_a_worker(world: World):
    """Quiet for 100 days, then run from the compound: a rented or sold account (dormant_active's case)."""
    compound(world)
    move(world, "W", 110 * DAY, home_hours=-200 * DAY)
    for i in range(4):
        world.txn(f"V{i}", "W", 400, 112 * DAY + i)
    _, hits = world.run("worker_turned_mule")
    assert hits == {}
    _, hits = world.run("worker_turned_mule", home_within="400d")
    assert hits["W"]["value"] == 4
