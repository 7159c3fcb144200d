import json

from tests.rules.conftest import World

DAY = 24



def test_fires_at_two_one_shot_senders_spread_over_months_not_one(world: World):
    world.regulars()
    world.txn("S0", "MULE", 400, 0)  # one payment every two months, each sender seen once
    _, hits = world.run("one_shot_senders")
    assert hits == {}
    world.txn("S1", "MULE", 400, 60 * DAY)
    _, hits = world.run("one_shot_senders")
    assert hits["MULE"]["value"] == 2 and hits["MULE"]["score"] == 0.7
    world.txn("S2", "MULE", 400, 120 * DAY)
    _, hits = world.run("one_shot_senders")
    assert hits["MULE"]["value"] == 3 and hits["MULE"]["score"] == 0.7
    assert sorted(hits["MULE"]["member_ids"]) == ["S0", "S1", "S2"]
    assert len(hits["MULE"]["txn_ids"]) == 3
    assert "seen only once" in hits["MULE"]["reason"]


def test_senders_seen_elsewhere_do_not_count(world: World):
    world.regulars()
    for i in range(3):
        world.txn(f"S{i}", "SHOP", 400, i * 30 * DAY)
        world.txn("EMPLOYER", f"S{i}", 2000, i * 30 * DAY - DAY)  # each sender also gets a salary: a customer
    _, hits = world.run("one_shot_senders")
    assert hits == {}


def test_the_bar_rises_with_the_population(world: World):
    # where a fifth of the accounts receive from three strangers each (a marketplace town), three is ordinary
    world.regulars()
    for r in range(10):
        for i in range(3):
            world.txn(f"S{r}_{i}", f"A{r}", 30, r * DAY + i)
    _, hits = world.run("one_shot_senders")
    assert hits == {}
    for i in range(6):  # twice the usual: above the population's p99
        world.txn(f"X{i}", "MULE", 400, i * 20 * DAY)
    _, hits = world.run("one_shot_senders")
    assert set(hits) == {"MULE"} and hits["MULE"]["score"] == 1.0
    assert 3 <= json.loads(hits["MULE"]["evidence"])["population_bar"] < 6  # between the town and the mule


def test_service_accounts_are_not_subjects(world: World):
    world.regulars()
    world.account("SHOP", kind="merchant")
    for i in range(5):
        world.txn(f"S{i}", "SHOP", 40, i * 10 * DAY)
    _, hits = world.run("one_shot_senders")
    assert hits == {}


def test_a_sender_seen_in_cash_or_card_activity_is_not_one_shot(world: World):
    world.regulars()
    for i in range(3):
        world.txn(f"S{i}", "MULE", 400, i * 60 * DAY)
        world.txn(f"S{i}", "cash", 100, i * 60 * DAY + 5, channel="cash_withdrawal")  # a customer of the bank
    _, hits = world.run("one_shot_senders")
    assert hits == {}


def test_collectors_that_fill_the_quantile_themselves_are_found_by_chance(world: World):
    # where every account that receives from strangers is a collector, the p99 is theirs: the population's share
    # of one-shot senders among all senders is what tells them apart
    world.regulars(60)
    for r in range(3):
        for i in range(3):
            world.txn(f"S{r}_{i}", f"C{r}", 400, r * DAY + i * 20 * DAY)
    _, hits = world.run("one_shot_senders")
    assert set(hits) == {"C0", "C1", "C2"}
    evidence = json.loads(hits["C0"]["evidence"])
    assert evidence["population_bar"] >= 3 and evidence["one_in"] > 63  # not above the quantile; improbable
    assert "chance below 1 in" in hits["C0"]["reason"]
    _, hits = world.run("one_shot_senders", max_chance_hits=1e-12)  # a chance bar none passes: the quantile alone
    assert hits == {}
