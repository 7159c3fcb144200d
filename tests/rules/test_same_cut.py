import json

import pytest

from tests.rules.conftest import World

DAY = 24


def split_from_one_payer(world: World, share_b2: float = 0.9) -> None:
    """S pays B1 and B2; B1 passes 90 % on in one debit, B2 passes share_b2 on in two."""
    world.txn("S", "B1", 1000.40, 0)
    world.txn("S", "B2", 600.70, 2 * DAY)
    world.txn("B1", "C1", 900.36, 5 * DAY)
    world.txn("B2", "C2", 300.30, 6 * DAY)
    world.txn("B2", "C3", round(600.70 * share_b2 - 300.30, 2), 7 * DAY)


def test_two_accounts_fed_by_one_payer_passing_on_the_same_share(world: World):
    split_from_one_payer(world)
    _, hits = world.run("same_cut")
    assert set(hits) == {"B1", "B2"}
    hit = hits["B2"]
    assert hit["value"] == 2 and len(hit["txn_ids"]) == 5
    assert sorted(hit["member_ids"]) == ["B1", "C1", "C2", "C3", "S"]
    assert "2 accounts each passed on 0.9 of what they received" in hit["reason"]


def test_different_shares_are_not_linked(world: World):
    split_from_one_payer(world, share_b2=0.85)
    _, hits = world.run("same_cut")
    assert hits == {}


def test_a_chain_keeping_the_same_cut_at_each_hop(world: World):
    world.txn("A", "B", 1234.56, 0)
    world.txn("B", "C", 1111.10, 3 * DAY)   # 0.9 of 1234.56 = 1111.104
    world.txn("C", "D", 999.99, 8 * DAY)    # 0.9 of 1111.10 = 999.99
    world.txn("X", "Y", 50, 1)              # unrelated traffic
    _, hits = world.run("same_cut")
    assert set(hits) == {"B", "C"}
    assert sorted(hits["B"]["member_ids"]) == ["A", "C", "D"]


def test_a_gather_paid_on_as_one_debit_then_forwarded(world: World):
    for i, usd in enumerate([300.15, 400.41, 299.45]):
        world.txn(f"X{i}", "G", usd, i * DAY)
    world.txn("G", "H", 900.01, 4 * DAY)   # 0.9 of the three credits
    world.txn("H", "J", 810.01, 6 * DAY)   # 0.9 of that
    _, hits = world.run("same_cut")
    assert set(hits) == {"G", "H"}
    assert sorted(hits["G"]["member_ids"]) == ["H", "J", "X0", "X1", "X2"]
    assert len(hits["H"]["txn_ids"]) == 5


def test_amounts_with_more_decimals_agree_within_their_own_rounding(world: World):
    world.txn("A", "B", 1234.56789, 0)
    world.txn("B", "C", 1111.11110, 3 * DAY)   # 0.9 to five decimals
    world.txn("C", "D", 999.99999, 8 * DAY)
    _, hits = world.run("same_cut")
    assert set(hits) == {"B", "C"}


def test_whole_amounts_agree_within_half_a_unit(world: World):
    world.txn("S", "B1", 10003, 0)
    world.txn("S", "B2", 7007, DAY)
    world.txn("B1", "C1", 9003, 3 * DAY)   # 0.90003
    world.txn("B2", "C2", 6306, 4 * DAY)   # 0.89996: the same cut, rounded to whole units
    _, hits = world.run("same_cut")
    assert set(hits) == {"B1", "B2"}


def test_a_coarse_or_much_tried_agreement_is_chance(world: World):
    world.txn("S", "B1", 103, 0)
    world.txn("S", "B2", 77, DAY)
    world.txn("B1", "C1", 93, 3 * DAY)    # 0.903
    world.txn("B2", "C2", 69, 4 * DAY)    # 0.896: whole units on small amounts agree to 1 % only
    _, hits = world.run("same_cut")
    assert hits == {}
    _, hits = world.run("same_cut", max_chance=0.2)
    assert set(hits) == {"B1", "B2"}


def test_a_repeated_relationship_is_not_a_forward(world: World):
    split_from_one_payer(world)
    world.txn("B1", "C1", 120.00, -30 * DAY)  # B1 pays C1 regularly: rent, not a layer
    _, hits = world.run("same_cut")
    assert hits == {}
    _, hits = world.run("same_cut", max_payments_per_pair=2)
    assert set(hits) == {"B1", "B2"}


@pytest.mark.parametrize("second, third, wider", [
    ((900.37, 25), (810.33, 27), {"window": "30d"}),      # passed on 25 days after the credit: beyond the window
    ((400.16, 1), (160.06, 2), {"min_share": 0.3}),       # 0.4 passed on: below min_share
])
def test_a_forward_outside_the_parameters_counts_once_they_are_widened(world: World, second, third, wider):
    world.txn("A", "B", 1000.41, 0)
    world.txn("B", "C", second[0], second[1] * DAY)
    world.txn("C", "D", third[0], third[1] * DAY)
    _, hits = world.run("same_cut")
    assert hits == {}
    _, hits = world.run("same_cut", **wider)
    assert set(hits) == {"B", "C"}


def test_a_service_account_is_not_a_forwarder(world: World):
    split_from_one_payer(world)
    world.account("B1", kind="otc_desk")
    _, hits = world.run("same_cut")
    assert hits == {}


def gathered_and_split(world: World, second_to: str = "H2", first_day: float = 3, second_day: float = 4) -> None:
    """G gathers X0's and X1's credits (an unrelated credit from Z between) and pays 0.9 of them on in two
    debits; G2, fed by X0 too, passes on the same share."""
    world.txn("X0", "G", 500.13, 0)
    world.txn("X1", "G", 400.17, DAY)
    world.txn("Z", "G", 77.77, 2 * DAY)
    world.txn("G", "H1", 450.16, first_day * DAY)     # 450.16 + 360.11 = 0.9 of 500.13 + 400.17
    world.txn("G", second_to, 360.11, second_day * DAY)
    world.txn("X0", "G2", 300.31, DAY)
    world.txn("G2", "K", 270.28, 5 * DAY)             # 0.9 of 300.31, to the cent


def test_gathered_and_split_again_with_other_traffic_in_between(world: World):
    gathered_and_split(world)
    _, hits = world.run("same_cut")
    assert set(hits) == {"G", "G2"}
    assert sorted(hits["G"]["member_ids"]) == ["G2", "H1", "H2", "K", "X0", "X1"]
    assert len(hits["G"]["txn_ids"]) == 6                 # Z's credit is not evidence
    evidence = json.loads(hits["G"]["evidence"])
    assert evidence["in_usd"] == pytest.approx(500.13 + 400.17 + 300.31)
    _, hits = world.run("same_cut", max_mix=0)
    assert hits == {}


def test_a_mix_paying_back_a_payer_is_not_a_forward(world: World):
    gathered_and_split(world, second_to="X0")
    _, hits = world.run("same_cut")
    assert hits == {}


def test_a_mix_paid_on_after_the_window_is_not_a_forward(world: World):
    gathered_and_split(world, first_day=15, second_day=23)  # 23 days after X0's credit: beyond the 21-day window
    _, hits = world.run("same_cut")
    assert hits == {}


def test_a_gather_is_one_forward_with_mixes_on_or_off(world: World):
    for i, usd in enumerate([1100.13, 900.21]):
        world.txn(f"X{i}", "G", usd, i * DAY)
    world.txn("G", "H", 1800.31, 4 * DAY)                 # 0.9 of 2000.34
    world.txn("H", "J", 1620.28, 6 * DAY)                 # 0.9 of that
    _, with_mixes = world.run("same_cut")
    _, without = world.run("same_cut", max_mix=0)
    assert set(with_mixes) == set(without) == {"G", "H"}
    assert json.loads(with_mixes["G"]["evidence"])["n_links"] == 1


def test_transfers_of_equal_amounts_all_count_in_the_evidence(world: World):
    world.txn("S", "B1", 1000.41, 0)
    world.txn("S", "B2", 1000.41, DAY)
    world.txn("B1", "C1", 900.37, 3 * DAY)
    world.txn("B2", "C2", 900.37, 4 * DAY)
    _, hits = world.run("same_cut")
    evidence = json.loads(hits["B1"]["evidence"])
    assert evidence["in_usd"] == pytest.approx(2000.82) and evidence["out_usd"] == pytest.approx(1800.74)


def test_round_sums_passed_on_are_no_evidence(world: World):
    world.txn("S", "B1", 2000, 0)                         # a round sum could be any amount rounded
    world.txn("S", "B2", 3000, DAY)
    world.txn("B1", "C1", 2000, 3 * DAY)
    world.txn("B2", "C2", 3000, 4 * DAY)
    world.txn("A", "B", 10000, 0)
    world.txn("B", "C", 5000, 3 * DAY)
    world.txn("C", "D", 2500, 8 * DAY)
    _, hits = world.run("same_cut")
    assert hits == {}


def test_a_service_between_two_relays_is_not_a_forwarder(world: World):
    world.account("O", kind="otc_desk")
    world.txn("P", "R1", 1234.56, 0)
    world.txn("R1", "O", 1111.10, DAY)
    world.txn("O", "R2", 999.99, 2 * DAY)
    world.txn("R2", "Q", 899.99, 3 * DAY)
    _, hits = world.run("same_cut")
    assert "O" not in hits
    _, hits = world.run("same_cut", service_kinds=[])
    assert "O" in hits


def test_a_forward_is_in_one_currency(world: World):
    world.txn("A", "B", 1234.56, 0, currency="EUR", amount=1234.56)
    world.txn("B", "C", 1111.10, 3 * DAY)
    world.txn("C", "D", 999.99, 8 * DAY)
    _, hits = world.run("same_cut")
    assert hits == {}


def test_a_transfer_without_a_rate_leaves_the_usd_sums_unknown(world: World):
    world.txn("A", "B", 1333.32, 0, currency="EUR", amount=1234.56)
    world.txn("B", "C", 1200.00, 3 * DAY, currency="EUR", amount=1111.10)
    world.txn("C", "D", 1080.00, 8 * DAY, currency="EUR", amount=999.99)
    world.con.execute("UPDATE transactions SET amount_usd = NULL WHERE to_account_id = 'B'")   # no rate that day
    _, hits = world.run("same_cut")
    assert set(hits) == {"B", "C"}
    evidence = hits["C"]["evidence"].replace(" ", "")
    assert '"in_usd":null' in evidence and '"out_usd":2280.0' in evidence   # not 1200.0 USD in


def test_no_band_or_no_chance_allowed_finds_nothing(world: World):
    world.txn("A", "B", 1000.41, 0)
    world.txn("B", "C", 1000.41, 3 * DAY)
    world.txn("C", "D", 1000.41, 8 * DAY)
    rr, hits = world.run("same_cut", min_share=1.0)
    assert rr.status == "ok" and hits == {}
    rr, hits = world.run("same_cut", max_chance=0.0)
    assert rr.status == "ok" and hits == {}
    _, hits = world.run("same_cut")
    assert set(hits) == {"B", "C"}                        # passed on whole, to the cent, twice
