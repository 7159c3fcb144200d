from tests.rules.conftest import World


def test_three_holders_with_one_phone_fire_two_do_not(world: World):
    world.txn("X", "Y", 1, 0)
    for i in range(2):
        world.party(f"P{i}", phone="+66811111111")
        world.account(f"A{i}", holder_id=f"P{i}")
    _, hits = world.run("shared_kyc_contact")
    assert hits == {}
    world.party("P2", phone="+66811111111")
    world.account("A2", holder_id="P2")
    _, hits = world.run("shared_kyc_contact")
    assert set(hits) == {"A0", "A1", "A2"} and hits["A0"]["value"] == 3
    assert "phone +66811111111" in hits["A0"]["reason"]


def test_skips_without_kyc(world: World):
    world.txn("X", "Y", 1, 0)
    rr, _ = world.run("shared_kyc_contact")
    assert rr.status == "skipped" and "KYC" in rr.note
