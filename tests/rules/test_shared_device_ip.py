from tests.rules.conftest import World


def test_three_accounts_on_one_device_fire(world: World):
    for i in range(3):
        world.event(f"A{i}", i * 24, device_id="dev-1", ip=f"10.0.0.{i}")
    _, hits = world.run("shared_device_ip")
    assert set(hits) == {"A0", "A1", "A2"}
    assert hits["A0"]["value"] == 3 and "device dev-1" in hits["A0"]["reason"]


def test_two_accounts_or_outside_window_do_not(world: World):
    world.event("A0", 0, device_id="dev-1")
    world.event("A1", 1, device_id="dev-1")
    world.event("A2", 24 * 31, device_id="dev-1")
    _, hits = world.run("shared_device_ip")
    assert hits == {}
    _, hits = world.run("shared_device_ip", window="40d")
    assert hits["A2"]["value"] == 3


def test_party_events_reach_accounts(world: World):
    for i in range(3):
        world.account(f"A{i}", holder_id=f"P{i}")
        world.event(None, i, party_id=f"P{i}", device_id="dev-7")
    _, hits = world.run("shared_device_ip")
    assert hits["A1"]["value"] == 3


def test_skips_without_events(world: World):
    world.txn("A", "B", 1, 0)
    rr, hits = world.run("shared_device_ip")
    assert rr.status == "skipped" and "events" in rr.note and hits == {}


def test_ip_needs_five_accounts(world: World):
    for i in range(4):
        world.event(f"A{i}", i, ip="198.51.100.1")
    _, hits = world.run("shared_device_ip")
    assert hits == {}
    world.event("A4", 5, ip="198.51.100.1")
    _, hits = world.run("shared_device_ip")
    assert hits["A4"]["value"] == 5 and "ip 198.51.100.1" in hits["A4"]["reason"]


def test_carrier_nat_ips_are_not_identifiers(world: World):
    for i in range(6):
        world.event(f"A{i}", i, ip="100.64.3.37")  # carrier-grade NAT: strangers share it
    _, hits = world.run("shared_device_ip")
    assert hits == {}
    _, hits = world.run("shared_device_ip", ignore_nat_ips=False)
    assert hits["A0"]["value"] == 6
    for i in range(5):
        world.event(f"B{i}", i, ip="203.0.113.7")  # a public IP shared by five accounts still counts
    _, hits = world.run("shared_device_ip")
    assert hits["B0"]["value"] == 5 and "A0" not in hits
