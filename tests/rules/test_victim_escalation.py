from tests.rules.conftest import World


def test_three_escalating_payments_fire(world: World):
    for i, usd in enumerate((100, 150, 225)):
        world.txn("VICTIM", "SCAM", usd, i * 24 * 10)
    _, hits = world.run("victim_escalation")
    assert hits["VICTIM"]["value"] == 3 and hits["VICTIM"]["member_ids"] == ["SCAM"]


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
