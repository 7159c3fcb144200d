from tests.rules.conftest import World
from tests.rules.trafficking_world import DAY, compound, move


def _recruited(world: World, n: int, *, arrive_after_days: float = 20) -> None:
    for i in range(n):
        paid = (5 + i) * DAY
        world.txn(f"W{i}", "AGENCY", 800 + 10 * i, paid)
        move(world, f"W{i}", paid + arrive_after_days * DAY, home_hours=0)


def test_two_payers_who_then_moved_into_the_compound_make_a_hit(world: World):
    compound(world)
    _recruited(world, 2)
    _, hits = world.run("recruitment_fees")
    h = hits["AGENCY"]
    assert h["value"] == 2 and h["score"] == 0.8 and h["member_ids"] == ["W0", "W1"]
    assert "fees 800.0-810.0 USD" in h["reason"] and "inside kk_park" in h["reason"]


def test_one_payer_or_a_move_long_after_paying_does_not(world: World):
    compound(world)
    _recruited(world, 1)
    _, hits = world.run("recruitment_fees")
    assert hits == {}


def test_moves_long_after_paying_do_not(world: World):
    compound(world)
    _recruited(world, 3, arrive_after_days=90)
    rr, hits = world.run("recruitment_fees")
    assert rr.status == "ok" and hits == {}


def test_the_move_counts_from_the_first_payment_not_a_later_one(world: World):
    """Paid 100 days before moving and again 20 days before: the move is 100 days after the first payment."""
    compound(world)
    for i in range(3):
        world.txn(f"W{i}", "AGENCY", 800, (5 + i) * DAY)
        world.txn(f"W{i}", "AGENCY", 50, (85 + i) * DAY)
        move(world, f"W{i}", (105 + i) * DAY, home_hours=0)
    rr, hits = world.run("recruitment_fees")
    assert rr.status == "ok" and hits == {}
    _, hits = world.run("recruitment_fees", relocated_within="120d")
    assert hits["AGENCY"]["value"] == 3 and "fees 800.0-800.0 USD" in hits["AGENCY"]["reason"]


def test_a_legitimate_agency_whose_clients_go_abroad_elsewhere_is_not_a_hit(world: World):
    compound(world)
    for i in range(6):
        world.account(f"C{i}", holder_id=f"p{i}")
        world.event(f"C{i}", 0, ip="100.64.0.9")
        world.txn(f"C{i}", "AGENCY", 800, (5 + i) * DAY)
        world.event(f"C{i}", (25 + i) * DAY, ip="198.18.7.7")  # abroad at the employer: no compound
    move(world, "MOVER", 30 * DAY)  # someone else did move into the compound: the rule runs
    rr, hits = world.run("recruitment_fees")
    assert rr.status == "ok" and hits == {}


def test_payers_whose_accounts_were_opened_days_before_are_not_recruited_workers(world: World):
    """Mule accounts opened at home and handed to the compound a week later: no life at home before the move."""
    compound(world)
    for i in range(3):
        world.account(f"M{i}", holder_id=f"p{i}")
        world.event(f"M{i}", (1 + i) * DAY, kind="account_opening", ip="100.64.0.3")
        world.txn(f"M{i}", "HUB", 900, (3 + i) * DAY)
        world.event(f"M{i}", (9 + i) * DAY, ip="203.0.113.9")
    _, hits = world.run("recruitment_fees")
    assert hits == {}
    _, hits = world.run("recruitment_fees", home_for="1d")
    assert hits["HUB"]["value"] == 3
