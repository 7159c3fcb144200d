import random

import pytest

from tests.rules.conftest import World

DAY = 24


def token_forward(world: World, out: float = 1111.111102) -> None:
    """A pays M 1234.567891 (six decimals, as a token transfer); M pays C `out` four days later."""
    world.txn("A", "M", 1234.567891, 0)
    world.txn("M", "C", out, 4 * DAY)


def unrelated_forwards(world: World, n: int, seed: int = 7) -> None:
    """n one-time forwards in cents with shares drawn afresh: the run's other tests of the same question."""
    rng = random.Random(seed)
    for i in range(n):
        amount = round(rng.uniform(200, 900), 2)
        world.txn(f"P{i}", f"F{i}", amount, i)
        world.txn(f"F{i}", f"Q{i}", round(amount * rng.uniform(0.55, 0.98), 2), i + 2 * DAY)


def test_an_exact_whole_percent_cut_on_token_amounts(world: World):
    token_forward(world)
    unrelated_forwards(world, 30)
    _, hits = world.run("round_cut")
    assert set(hits) == {"M"}
    hit = hits["M"]
    assert hit["value"] == 90 and len(hit["txn_ids"]) == 2
    assert sorted(hit["member_ids"]) == ["A", "C"]
    assert ("passed on exactly 90 % of what it received from 1 payer(s) to 1 payee(s), to the amounts' precision"
            " (a chance of 1.6e-07 for each of the run's 31 forwards)") in hit["reason"]
    assert '"in_usd":1234.57' in hit["evidence"].replace(" ", "")


def test_a_cut_in_cents_stands_out_alone_but_not_among_many_forwards(world: World):
    world.txn("A", "M", 1234.56, 0)
    world.txn("M", "C", 1111.11, 4 * DAY)   # 0.900005: 90 % of 1234.56 (1111.104) to the cent
    _, hits = world.run("round_cut")
    assert set(hits) == {"M"}
    unrelated_forwards(world, 30)            # 31 forwards tested: a cent's agreement is no longer rare enough
    _, hits = world.run("round_cut")
    assert hits == {}


@pytest.mark.parametrize("out", [1234.567891, 1111.21, 1111.0])
def test_all_of_it_or_a_near_miss_or_a_rounded_sum_is_no_cut(world: World, out: float):
    token_forward(world, out=out)
    unrelated_forwards(world, 30)
    _, hits = world.run("round_cut")
    assert hits == {}


def test_a_gather_split_again_keeping_85_percent(world: World):
    for i, usd in enumerate([300.123457, 400.987654, 299.555555]):
        world.txn(f"X{i}", "G", usd, i * DAY)
    total = 300.123457 + 400.987654 + 299.555555
    world.txn("G", "H1", 500.000001, 4 * DAY)
    world.txn("G", "H2", round(total * 0.85 - 500.000001, 6), 5 * DAY)
    unrelated_forwards(world, 30)
    _, hits = world.run("round_cut")
    assert set(hits) == {"G"}
    assert hits["G"]["value"] == 85
    assert sorted(hits["G"]["member_ids"]) == ["H1", "H2", "X0", "X1", "X2"]


def test_a_repeated_relationship_or_a_service_is_not_a_forward(world: World):
    token_forward(world)
    world.txn("M", "C", 120.00, -30 * DAY)   # M pays C regularly: rent, not a layer
    _, hits = world.run("round_cut")
    assert hits == {}
    other = World(world.tmp / "other")
    token_forward(other)
    other.account("M", kind="otc_desk")
    _, hits = other.run("round_cut")
    assert hits == {}


def test_parameters_set_the_cuts_and_the_false_discovery_rate(world: World):
    token_forward(world)
    unrelated_forwards(world, 30)
    _, hits = world.run("round_cut", cut_step=0.05)   # 90 % is a multiple of 5 %
    assert set(hits) == {"M"}
    _, hits = world.run("round_cut", cut_step=0.04)   # ... not of 4 %
    assert hits == {}
    _, hits = world.run("round_cut", max_false_share=1e-12)
    assert hits == {}


def test_pass_throughs_do_not_lower_the_bar(world: World):
    """Forwards that pass on all of it are no cut: they count among the tests, never among the discoveries."""
    world.txn("A", "M", 1234.56, 0)
    world.txn("M", "C", 1111.11, 4 * DAY)
    unrelated_forwards(world, 30)
    rng = random.Random(3)
    for i in range(40):
        usd = round(rng.uniform(2000, 9000), 2)
        world.txn(f"R{i}", f"G{i}", usd, i)
        world.txn(f"G{i}", f"S{i}", usd, i + DAY)
    _, hits = world.run("round_cut")
    assert hits == {}
    other = World(world.tmp / "other")   # a token forward among them: they count among the tests
    token_forward(other)
    for i in range(40):
        other.txn(f"R{i}", f"G{i}", 2000 + i, i)
        other.txn(f"G{i}", f"S{i}", 2000 + i, i + DAY)
    _, hits = other.run("round_cut")
    assert "for each of the run's 41 forwards" in hits["M"]["reason"]


def test_a_cut_step_that_does_not_divide_one(world: World):
    token_forward(world)   # 90 % is three steps of 30 %
    _, hits = world.run("round_cut", cut_step=0.3)
    assert hits["M"]["value"] == 90


def test_a_split_is_one_hit_with_all_its_payees(world: World):
    world.txn("A", "M", 1234.567891, 0)
    world.txn("M", "C1", 740.740735, 2 * DAY)   # 60 % ...
    world.txn("M", "C2", 370.370367, 3 * DAY)   # ... and 30 %: the mule kept 10 %
    unrelated_forwards(world, 30)
    world.run("round_cut")
    rows = world.con.execute("SELECT measured_value, member_ids FROM rule_hits WHERE rule_id = 'round_cut'").fetchall()
    assert [(v, sorted(m)) for v, m in rows] == [(90, ["A", "C1", "C2"])]


def test_a_half_percent_cut_and_a_transfer_without_a_rate(world: World):
    world.txn("A", "M", 0, 0, currency="EUR", amount=1234.567891)
    world.txn("M", "C", 0, 4 * DAY, currency="EUR", amount=round(1234.567891 * 0.875, 6))
    world.con.execute("UPDATE transactions SET amount_usd = NULL")   # no EUR rate loaded
    _, hits = world.run("round_cut", cut_step=0.005)
    assert hits["M"]["value"] == 87.5
    assert "passed on exactly 87.5 % of what it received" in hits["M"]["reason"]
    assert '"in_usd":null' in hits["M"]["evidence"].replace(" ", "")
