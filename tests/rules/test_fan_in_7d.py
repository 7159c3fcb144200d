from tests.rules.conftest import World


def test_fires_at_ten_senders_in_seven_days_not_nine(world: World):
    for i in range(9):
        world.txn(f"V{i}", "MULE", 300, i * 18)  # 9 senders over 6 days: 24 h rule stays quiet
    _, hits = world.run("fan_in_7d")
    assert hits == {}
    world.txn("V9", "MULE", 300, 160)  # 10th sender, 6.7 days after the first
    _, hits = world.run("fan_in_7d")
    assert hits["MULE"]["value"] == 10 and hits["MULE"]["score"] == 0.7
    _, hits24 = world.run("fan_in_24h")
    assert hits24 == {}


def test_override_lowers_threshold(world: World):
    for i in range(6):
        world.txn(f"V{i}", "MULE", 300, i * 24)
    _, hits = world.run("fan_in_7d", min_senders=6)
    assert hits["MULE"]["value"] == 6
