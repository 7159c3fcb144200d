from tests.rules.conftest import World


def test_three_escalating_payments_fire(world: World):
    for i, usd in enumerate((100, 150, 225)):
        world.txn("VICTIM", "SCAM", usd, i * 24 * 10)
    _, hits = world.run("victim_escalation")
    assert hits["VICTIM"]["value"] == 3 and hits["VICTIM"]["member_ids"] == ["SCAM"]
    assert hits["VICTIM"]["score"] == 0.5  # a hit, below the typology threshold: three 1.5 x steps happen by chance


def test_four_escalating_payments_reach_the_alerting_band(world: World):
    for i, usd in enumerate((100, 150, 225, 340)):
        world.txn("VICTIM", "SCAM", usd, i * 24 * 10)
    rr, hits = world.run("victim_escalation")
    assert hits["VICTIM"]["value"] == 4 and hits["VICTIM"]["score"] == 0.8


def test_service_accounts_are_not_victims(world: World):
    world.account("P2P", kind="p2p_merchant")
    for i, usd in enumerate((100, 150, 225, 340)):
        world.txn("P2P", "CLIENT", usd, i * 24 * 10)
    _, hits = world.run("victim_escalation")
    assert hits == {}


def test_growth_just_under_breaks_the_run(world: World):
    for i, usd in enumerate((100, 150, 224.99)):
        world.txn("VICTIM", "SCAM", usd, i * 24 * 10)
    _, hits = world.run("victim_escalation")
    assert hits == {}
    _, hits = world.run("victim_escalation", growth=1.4)
    assert hits["VICTIM"]["value"] == 3


def test_rotating_vasp_deposit_accounts_count_together(world: World):
    for i, usd in enumerate((200, 400, 800, 1600)):
        world.account(f"DEP{i}", kind="vasp_deposit")
        world.txn("VICTIM", f"DEP{i}", usd, i * 24 * 7)
    _, hits = world.run("victim_escalation")
    assert hits["VICTIM"]["value"] == 4 and "new VASP payees" in hits["VICTIM"]["reason"]
    assert len(hits["VICTIM"]["member_ids"]) == 4


def test_rotating_ordinary_payees_do_not(world: World):
    for i, usd in enumerate((200, 400, 800, 1600)):
        world.txn("VICTIM", f"SHOP{i}", usd, i * 24 * 7)
    _, hits = world.run("victim_escalation")
    assert hits == {}


def test_steady_payments_to_a_usual_payee_do_not_fire(world: World):
    # the pair's largest payment is under growth^(min_payments-1) x its smallest: skipped before any window
    for i in range(12):
        world.txn("TENANT", "LANDLORD", 100 + 10 * (i % 3), i * 24 * 7)
    _, hits = world.run("victim_escalation")
    assert hits == {}
    _, hits = world.run("victim_escalation", growth=1.05, min_run_share=0)
    assert hits["TENANT"]["value"] == 3  # 100 -> 110 -> 120, repeated: 1.2 >= 1.05^2, so the pair is read


def test_chance_escalation_inside_a_long_relationship_does_not_fire(world: World):
    # 4 escalating payments among 12 to a usual payee: the run is a third of the relationship
    amounts = [300, 120, 90, 100, 150, 225, 340, 80, 95, 110, 70, 130]
    for i, usd in enumerate(amounts):
        world.txn("CUSTOMER", "SUPPLIER", usd, i * 24 * 5)
    _, hits = world.run("victim_escalation")
    assert hits == {}
    _, hits = world.run("victim_escalation", min_run_share=0.3)
    assert hits["CUSTOMER"]["value"] == 4


def test_an_escalation_after_steady_payments_fires(world: World):
    for i, usd in enumerate((100, 100, 100, 100, 150, 225, 340)):
        world.txn("VICTIM", "SCAM", usd, i * 24 * 7)
    _, hits = world.run("victim_escalation")
    assert hits["VICTIM"]["value"] == 4 and hits["VICTIM"]["score"] == 0.8
