from tests.rules.conftest import World


def chain(world: World, hops: int, keep: float = 0.9) -> None:
    amount = 10000.0
    world.txn("tron:SRC", "tron:F0", amount, 0, rail="crypto", channel="onchain", currency="USDT")
    for i in range(hops):
        fwd = round(amount * keep, 6)
        world.txn(f"tron:F{i}", f"tron:F{i + 1}", fwd, i + 1, rail="crypto", channel="onchain", currency="USDT")
        world.txn(f"tron:F{i}", f"tron:PEEL{i}", round(amount - fwd, 6), i + 1.5, rail="crypto", channel="onchain", currency="USDT")
        amount = fwd


def test_five_hops_fire_four_do_not(world: World):
    chain(world, 4)
    _, hits = world.run("peel_chain")
    assert hits == {}
    world.con.execute("DELETE FROM transactions")
    chain(world, 5)
    _, hits = world.run("peel_chain")
    assert set(hits) == {"tron:F0"}
    assert hits["tron:F0"]["value"] == 5 and len(hits["tron:F0"]["txn_ids"]) == 6


def test_forwarding_everything_is_not_peeling(world: World):
    chain(world, 6, keep=1.0)
    _, hits = world.run("peel_chain")
    assert hits == {}
    _, hits = world.run("peel_chain", max_forward=1.0)
    assert hits["tron:F0"]["value"] == 6


def test_skips_without_crypto(world: World):
    world.txn("A", "B", 10, 0)
    rr, _ = world.run("peel_chain")
    assert rr.status == "skipped" and "crypto" in rr.note
