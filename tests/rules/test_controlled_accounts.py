from tests.rules.conftest import World
from tests.rules.trafficking_world import DAY, INSIDE_IP, compound, move


def test_three_movers_on_one_device_inside_the_compound_make_a_hit(world: World):
    compound(world)
    for i in range(3):
        move(world, f"W{i}", (10 + i) * DAY, device="phone-1")
    world.txn("V", "W0", 300, 12 * DAY)
    _, hits = world.run("controlled_accounts")
    assert set(hits) == {"W0", "W1", "W2"}
    h = hits["W0"]
    assert h["value"] == 3 and h["score"] == 0.8 and "device phone-1 inside kk_park" in h["reason"]
    assert h["member_ids"] == ["W0", "W1", "W2"] and len(h["txn_ids"]) == 1


def test_two_movers_on_one_device_do_not(world: World):
    compound(world)
    for i in range(2):
        move(world, f"W{i}", (10 + i) * DAY, device="phone-1")
    _, hits = world.run("controlled_accounts")
    assert hits == {}


def test_accounts_opened_inside_the_compound_are_not_relocations(world: World):
    """Mules set up inside the compound share its devices from their first event: shared_device_ip's case."""
    compound(world)
    for i in range(4):
        world.account(f"M{i}", holder_id=f"p{i}")
        world.event(f"M{i}", (10 + i) * DAY, kind="account_opening", ip=INSIDE_IP, device_id="phone-1")
    _, hits = world.run("controlled_accounts")
    assert hits == {}


def test_a_family_sharing_a_tablet_at_home_is_not_a_hit(world: World):
    compound(world)
    move(world, "MOVER", 10 * DAY, device="phone-1")  # someone did move: the rule runs
    for i in range(4):
        world.account(f"F{i}", holder_id=f"p{i}")
        world.event(f"F{i}", i * DAY, ip="100.64.0.1", device_id="tablet")
        world.event(f"F{i}", (10 + i) * DAY, ip="100.64.0.2", device_id="tablet")
    rr, hits = world.run("controlled_accounts")
    assert rr.status == "ok" and hits == {}


def test_accounts_opened_at_home_days_before_the_compound_runs_them_are_mules_not_workers(world: World):
    compound(world)
    for i in range(4):
        world.account(f"M{i}", holder_id=f"p{i}")
        world.event(f"M{i}", (2 + i) * DAY, kind="account_opening", ip="100.64.0.3")
        world.event(f"M{i}", (10 + i) * DAY, ip=INSIDE_IP, device_id="phone-1")
    _, hits = world.run("controlled_accounts")
    assert hits == {}
    _, hits = world.run("controlled_accounts", home_for="1d")
    assert len(hits) == 4


def test_workers_from_a_town_near_another_compound_moved_all_the_same(world: World):
    """Their accounts were opened inside another compound's range (they lived beside it): outside this one."""
    world.compound("kk_park", ip_cidrs=["203.0.113.0/25"])
    world.compound("gtsez", ip_cidrs=["198.51.100.128/25"])
    for i in range(3):
        world.account(f"W{i}", holder_id=f"p{i}")
        world.event(f"W{i}", -200 * DAY, kind="account_opening", ip="198.51.100.200")
        world.event(f"W{i}", (5 + i) * DAY, ip="198.51.100.201")
        world.event(f"W{i}", (10 + i) * DAY, ip=INSIDE_IP, device_id="phone-1")
    _, hits = world.run("controlled_accounts")
    assert set(hits) == {"W0", "W1", "W2"} and "inside kk_park" in hits["W0"]["reason"]
