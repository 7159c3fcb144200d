from tests.rules.conftest import World

LISTED = "tron:TCompoundWallet0000000000000000001"


def chain(world: World) -> None:
    world.compound("kk_park", wallets=[LISTED])
    world.txn("tron:A", "tron:B", 1000, 0, rail="crypto")
    world.txn("tron:B", "tron:C", 1000, 1, rail="crypto")
    world.txn("tron:C", LISTED, 1000, 2, rail="crypto")
    world.txn(LISTED, "tron:D", 500, 3, rail="crypto")
    world.txn("tron:Z", "tron:A", 10, 4, rail="crypto")  # after A paid on: not on a time-respecting path


def test_hops_to_and_from_listed(world: World):
    chain(world)
    _, hits = world.run("exposure")
    assert hits[LISTED]["value"] == 0 and "compounds" in hits[LISTED]["reason"]
    assert hits["tron:C"]["value"] == 1 and hits["tron:C"]["score"] == 1.0
    assert hits["tron:D"]["value"] == 1 and "from listed" in hits["tron:D"]["reason"]
    assert hits["tron:B"]["value"] == 2 and hits["tron:B"]["score"] == 0.6
    assert hits["tron:A"]["value"] == 3 and hits["tron:A"]["score"] == 0.3 and len(hits["tron:A"]["txn_ids"]) == 3
    assert "tron:Z" not in hits


def test_depth_override(world: World):
    chain(world)
    _, hits = world.run("exposure", max_hops=1)
    assert set(hits) == {LISTED, "tron:C", "tron:D"}


def test_sanctions_file_from_config(world: World):
    addr = "0x" + "ab" * 20
    world.txn("ethereum:0x" + "11" * 20, "ethereum:" + addr, 100, 0, rail="crypto")
    sdn = world.tmp / "sdn.csv"
    sdn.write_text(f'36000,"GARANTEX",-0- ,"CYBER2","Digital Currency Address - ETH {addr.upper().replace("0X", "0x")}; alt."\n')
    _, hits = world.run("exposure", config={"listed_addresses": {"files": ["sdn.csv"]}})
    assert hits["ethereum:0x" + "11" * 20]["value"] == 1
    assert "ofac_sdn" in hits["ethereum:0x" + "11" * 20]["reason"]


def test_hub_is_reached_but_not_walked_through(world: World):
    world.compound("c1", accounts=["BANK:LISTED"])
    world.account("EXCHANGE", kind="exchange_hot_wallet")
    world.txn("X", "EXCHANGE", 100, 0)
    world.txn("EXCHANGE", "BANK:LISTED", 100, 1)
    _, hits = world.run("exposure")
    assert "EXCHANGE" not in hits and "X" not in hits  # the exchange is reached, not reported nor walked through
    _, hits = world.run("exposure", pass_kinds=[])
    assert hits["EXCHANGE"]["value"] == 1 and hits["X"]["value"] == 2


def test_kyc_sanctioned_accounts_are_listed(world: World):
    world.account("tron:TSANCTIONED", kind="sanctioned", rail="crypto")
    world.txn("tron:TMULE", "tron:TSANCTIONED", 500, 1, rail="crypto", channel="onchain")
    _, hits = world.run("exposure")
    assert hits["tron:TSANCTIONED"]["value"] == 0 and "kyc_sanctioned" in hits["tron:TSANCTIONED"]["reason"]
    assert hits["tron:TMULE"]["value"] == 1


def test_skips_without_lists(world: World):
    world.txn("A", "B", 1, 0)
    rr, _ = world.run("exposure")
    assert rr.status == "skipped" and "listed" in rr.note
