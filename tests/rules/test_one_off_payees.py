import json

from tests.rules.conftest import World

DAY = 24


def households(world: World, n: int = 40, payees: int = 8, prefix: str = "H") -> None:
    """Accounts paying the same payees month after month (rent, school, family): no one-off payee. With 8-15
    payees they are the peers of the accounts below (peers: as many payees, to the power of two)."""
    for month in range(3):
        for i in range(n):
            for j in range(payees):
                world.txn(f"{prefix}{i}", f"{prefix}{i}_R{j}", 200, month * 30 * DAY + i + j / 10)


def pays(world: World, payer: str, *, repeat: int, one_off: int, prefix: str | None = None) -> None:
    """`repeat` payees paid monthly, and `one_off` payees paid once each, weeks apart."""
    for month in range(3):
        for j in range(repeat):
            world.txn(payer, f"{payer}_R{j}", 300, month * 30 * DAY + 50 + j)
    for j in range(one_off):
        world.txn(payer, f"{prefix or payer}_X{j}", 450, j * 20 * DAY + 7)


def test_fires_at_three_one_off_payees_spread_over_months_not_two(world: World):
    households(world)
    pays(world, "MULE", repeat=6, one_off=2)
    _, hits = world.run("one_off_payees")
    assert hits == {}
    world.txn("MULE", "MULE_X2", 450, 100 * DAY)
    _, hits = world.run("one_off_payees")
    assert set(hits) == {"MULE"}
    hit = hits["MULE"]
    assert hit["value"] == 3 and hit["score"] == 0.7
    assert sorted(hit["member_ids"]) == ["MULE_X0", "MULE_X1", "MULE_X2"]  # the one-off payees only
    assert len(hit["txn_ids"]) == 3
    evidence = json.loads(hit["evidence"])
    assert evidence["n_payees"] == 9 and evidence["one_in"] > 41  # rarer than one in the number of payers
    assert "3 of its 9 payees paid once and never again" in hit["reason"]


def test_payees_paid_again_do_not_count(world: World):
    households(world)
    pays(world, "HOME", repeat=8, one_off=0)
    for j in range(3):  # the same payee twice is a relationship, not a one-off
        world.txn("HOME", f"FRIEND{j}", 100, 10 * DAY + j)
        world.txn("HOME", f"FRIEND{j}", 100, 70 * DAY + j)
    _, hits = world.run("one_off_payees")
    assert hits == {}


def test_the_bar_rises_where_paying_strangers_once_is_ordinary(world: World):
    households(world, n=20)
    for i in range(20):  # half the town also pays four strangers once each (market stalls, rides)
        pays(world, f"T{i}", repeat=4, one_off=4)
    pays(world, "MULE", repeat=6, one_off=4)  # ordinary here
    _, hits = world.run("one_off_payees")
    assert hits == {}
    pays(world, "BIG", repeat=0, one_off=15, prefix="BIG")  # fifteen strangers and no one else: beyond the town's habits
    _, hits = world.run("one_off_payees")
    assert set(hits) == {"BIG"} and hits["BIG"]["score"] == 1.0
    assert json.loads(hits["BIG"]["evidence"])["peer_share_pct"] == 50.0


def test_peers_are_accounts_with_as_many_payees(world: World):
    households(world)
    for i in range(30):  # large payers that pay each of twenty payees once: ordinary among themselves
        pays(world, f"HUB{i}", repeat=0, one_off=20)
    pays(world, "MULE", repeat=5, one_off=5)
    _, hits = world.run("one_off_payees")
    assert set(hits) == {"MULE"}
    # with too few peers to say what is ordinary, nobody is judged
    _, hits = world.run("one_off_payees", min_peers=100)
    assert hits == {}


def test_service_accounts_are_not_subjects(world: World):
    households(world)
    world.account("PAYROLL", kind="payroll")
    pays(world, "PAYROLL", repeat=2, one_off=8)
    _, hits = world.run("one_off_payees")
    assert hits == {}
