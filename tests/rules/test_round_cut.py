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
    assert "passed on exactly 90 % of 1234.57 USD received from 1 payer(s) to 1 payee(s)" in hit["reason"]


def test_a_cut_in_cents_stands_out_alone_but_not_among_many_forwards(world: World):
    world.txn("A", "M", 1234.56, 0)
    world.txn("M", "C", 1111.10, 4 * DAY)   # 0.9 of 1234.56 = 1111.104: exact to the cent
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
