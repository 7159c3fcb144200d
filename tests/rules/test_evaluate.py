import json

from rules.engine import detect
from rules.evaluate import evaluate
from tests.rules.conftest import World


def write_truth(world: World, patterns, accounts, txns):
    d = world.tmp / "world" / "truth"
    d.mkdir(parents=True)
    (d / "patterns.csv").write_text("pattern_id,typology,compound_id,difficulty\n" + "".join(f"{p},{t},,easy\n" for p, t in patterns))
    (d / "pattern_accounts.csv").write_text("pattern_id,account_id,role\n" + "".join(f"{p},{a},{r}\n" for p, a, r in accounts))
    (d / "pattern_transactions.csv").write_text("pattern_id,txn_id\n" + "".join(f"{p},{t}\n" for p, t in txns))
    return d.parent


def test_scores_patterns_accounts_and_transactions(world: World):
    tids = [world.txn(f"V{i}", "MULE", 500, i) for i in range(5)]
    c1 = world.txn("A", "B", 1000, 0)
    c2 = world.txn("B", "A", 900, 5)
    noise = world.txn("N1", "N2", 10, 3)
    truth = write_truth(
        world,
        [("p1", "mule_fan_in"), ("p2", "cycle")],
        [("p1", "MULE", "mule")] + [("p1", f"V{i}", "victim") for i in range(5)] + [("p2", "A", "mule"), ("p2", "B", "mule")],
        [("p1", t) for t in tids] + [("p2", c1), ("p2", c2)],
    )
    detect(world.con, only=["fan_in_24h", "cycle"], config_path=world.config({"rules": {"cycle": {"parameters": {"min_return_share": 0.95}}}}))
    from io import StringIO

    from rich.console import Console

    buf = StringIO()
    res = evaluate(world.con, truth, json_path=world.tmp / "eval.json", console=Console(file=buf, width=200))
    assert "mule_fan_in" in buf.getvalue() and "cycle" in buf.getvalue()
    assert res["per_typology"]["mule_fan_in"]["found"] == 1 and res["per_typology"]["mule_fan_in"]["pattern_recall"] == 1.0
    assert res["per_typology"]["cycle"]["found"] == 0  # 90 % returned is below the overridden 95 %
    assert res["patterns"] == {"total": 2, "found": 1, "recall": 0.5, "found_any": 1, "recall_any": 0.5}
    # account recall is over the suspects (MULE, A, B), not the victims
    assert res["accounts"]["precision"] == 1.0 and res["accounts"]["recall"] == round(1 / 3, 4)
    assert res["transactions"]["precision"] == 1.0 and res["transactions"]["recall"] == round(5 / 7, 4)
    assert noise not in json.dumps(res)
    assert json.loads((world.tmp / "eval.json").read_text())["run_id"] == res["run_id"]
    assert res["missed_patterns"] == [{"pattern_id": "p2", "typology": "cycle", "difficulty": "easy"}]


def test_pattern_found_on_its_suspects_victims_only_for_victim_typologies(world: World):
    # fan-in of 5 victims into MULE; the mule's onward payee CONS is a suspect the fan-in alert does not cover
    for i in range(5):
        world.txn(f"V{i}", "MULE", 500, i)
    world.txn("MULE", "CONS", 2400, 6)
    # 5 victims with 10 accounts: a pattern with 1 mule among 12 members is found by covering the mule
    big = [("p1", "MULE", "mule")] + [("p1", f"V{i}", "victim") for i in range(5)] + [("p1", f"W{i}", "victim") for i in range(6)]
    # escalating payments of a victim: its target is the victim (victim_escalation's subject)
    for i, usd in enumerate((100, 200, 400, 800)):
        world.txn("VIC", "SCAM", usd, 24 * (i + 1))
    truth = write_truth(
        world,
        [("p1", "mule_fan_in"), ("p2", "victim_escalation"), ("p3", "pass_through")],
        big + [("p2", "VIC", "victim"), ("p2", "SCAM", "mule"), ("p3", "CONS", "consolidator"), ("p3", "V0", "victim")],
        [],
    )
    detect(world.con, only=["fan_in_24h", "victim_escalation"])
    res = evaluate(world.con, truth)
    t = res["per_typology"]
    assert t["mule_fan_in"]["found"] == 1  # 1 of 12 accounts, but the only suspect
    assert t["victim_escalation"]["found"] == 1 and t["victim_escalation"]["accounts"]["precision"] == 1.0
    assert t["pass_through"]["found"] == 0  # V0 is covered (a sender of the fan-in) but is a victim, CONS is not
    assert res["victims"]["true_positive"] == 1  # VIC, named by the victim typology
    # targets: MULE, CONS (suspects) and VIC (victim of a victim typology); flagged: MULE and VIC
    assert res["accounts"]["true_positive"] == 2 and res["accounts"]["recall"] == round(2 / 3, 4)
