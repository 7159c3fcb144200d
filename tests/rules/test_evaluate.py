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
    assert res["patterns"] == {"total": 2, "found_any": 1, "recall_any": 0.5}
    assert res["accounts"]["precision"] == 1.0 and res["accounts"]["recall"] == round(1 / 8, 4)
    assert res["transactions"]["precision"] == 1.0 and res["transactions"]["recall"] == round(5 / 7, 4)
    assert noise not in json.dumps(res)
    assert json.loads((world.tmp / "eval.json").read_text())["run_id"] == res["run_id"]
    assert res["missed_patterns"] == [{"pattern_id": "p2", "typology": "cycle", "difficulty": "easy"}]
