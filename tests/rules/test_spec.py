"""rule.yml / typology / config checks: every shipped rule loads, and bad specs are refused with the file named."""

import shutil
from pathlib import Path

import pytest
import yaml

from rules.engine import load_rules
from rules.spec import (
    CATALOG_DIR,
    SpecError,
    load_catalog,
    load_config,
    load_rule,
    load_typologies,
    parse_duration,
    resolve,
    sql_param_names,
)

# typologies that must stay in the pack (others may be added: a rule folder and a typology file, nothing else)
CORE_TYPOLOGIES = {
    "mule_fan_in", "fan_out", "pass_through", "rapid_layering", "structuring", "cycle", "scatter_gather",
    "gather_scatter", "bipartite", "dormant_active", "victim_escalation", "shared_identifiers", "off_ramp",
    "peel_chain", "exposure", "release_payments", "recruitment_fees", "controlled_accounts", "worker_turned_mule",
}


def test_catalogue_and_typologies_load():
    rules = load_catalog()
    typ = load_typologies(rules=rules)
    assert CORE_TYPOLOGIES <= set(typ)
    assert {r.typology for r in rules.values()} == set(typ)  # every typology has a rule, every rule a typology
    for rid in rules:  # every rule has its test file
        assert (Path(__file__).parent / f"test_{rid}.py").exists(), rid


def _copy(tmp_path: Path, rule_id: str = "fan_out_8h") -> Path:
    dst = tmp_path / rule_id
    shutil.copytree(CATALOG_DIR / rule_id, dst)
    return dst


def _edit(folder: Path, **changes) -> None:
    data = yaml.safe_load((folder / "rule.yml").read_text())
    data.update(changes)
    (folder / "rule.yml").write_text(yaml.safe_dump(data))


def test_gap_between_bands_is_refused(tmp_path):
    f = _copy(tmp_path)
    _edit(f, bands=[{"upper": 5, "score": 0, "reason": "x"}, {"lower": 6, "score": 1, "reason": "y"}])
    with pytest.raises(SpecError, match="not contiguous"):
        load_rule(f)


def test_band_limit_must_name_a_numeric_parameter(tmp_path):
    f = _copy(tmp_path)
    _edit(f, bands=[{"lower": "$window", "score": 1, "reason": "x"}])
    with pytest.raises(SpecError, match="numeric"):
        load_rule(f)


def test_bad_default_type_is_refused(tmp_path):
    f = _copy(tmp_path)
    data = yaml.safe_load((f / "rule.yml").read_text())
    data["parameters"]["min_payees"]["default"] = "five"
    (f / "rule.yml").write_text(yaml.safe_dump(data))
    with pytest.raises(SpecError, match="not an integer"):
        load_rule(f)


def test_undeclared_sql_parameter_is_refused(tmp_path):
    f = _copy(tmp_path)
    (f / "rule.sql").write_text((f / "rule.sql").read_text() + "\n-- $ignored in a comment\nLIMIT $nope")
    with pytest.raises(SpecError, match="nope"):
        load_rule(f)


def test_unknown_requirement_and_folder_mismatch(tmp_path):
    f = _copy(tmp_path)
    _edit(f, requires=["blockchain"])
    with pytest.raises(SpecError, match="unknown requirement"):
        load_rule(f)
    g = _copy(tmp_path, "pass_through")
    _edit(g, id="other")
    with pytest.raises(SpecError, match="folder name"):
        load_rule(g)


def test_sql_param_names_ignore_comments_and_strings():
    assert sql_param_names("SELECT $a, '$b' -- $c\nFROM t WHERE x = $d_1") == {"a", "d_1"}


def test_duration():
    assert parse_duration("24h").total_seconds() == 86400
    assert parse_duration("7d").days == 7
    with pytest.raises(ValueError):
        parse_duration("soon")


def test_config_overrides_and_typos(tmp_path):
    cfg = tmp_path / "deploy.yml"
    cfg.write_text(yaml.safe_dump({
        "parameters": {"reporting_threshold": 500000, "reporting_currency": "PHP"},
        "rules": {"fan_in_24h": {"parameters": {"min_senders": 7}}, "cycle": {"enabled": False}},
        "typologies": {"mule_fan_in": {"threshold": 1.5, "weights": {"fan_in_7d": 0.5}}},
    }))
    _, rules, typ = load_rules(cfg)
    assert str(rules["structuring_cash"].params["reporting_threshold"]) == "500000"
    assert rules["structuring_cash"].params["reporting_currency"] == "PHP"
    assert rules["fan_in_24h"].params["min_senders"] == 7 and rules["fan_in_24h"].bands[1].lower == 7
    assert rules["fan_in_24h"].param_hash != resolve(load_catalog(), load_config(None))["fan_in_24h"].param_hash
    assert not rules["cycle"].enabled
    default_weights = load_rules(None)[2]["mule_fan_in"].rules
    assert typ["mule_fan_in"].threshold == 1.5 and typ["mule_fan_in"].rules == {**default_weights, "fan_in_7d": 0.5}
    assert default_weights["fan_in_7d"] == 1.0  # the override changed what the catalogue says

    for bad, match in (
        ({"parameters": {"min_sendres": 3}}, "declared by no rule"),
        ({"rules": {"fan_in_24h": {"parameters": {"min_senders": "many"}}}}, "not an integer"),
        ({"rules": {"no_such_rule": {}}}, "unknown rules"),
        ({"rules": {"fan_in_24h": {"parameters": {"strong_senders": 3}}}}, "band"),
        ({"typologies": {"mule_fan_in": {"weights": {"cycle": 1}}}}, "not rules of this typology"),
        ({"thresholds": {}}, "Extra inputs"),
    ):
        cfg.write_text(yaml.safe_dump(bad))
        with pytest.raises(SpecError, match=match):
            load_rules(cfg)


def test_variant_runs_the_sibling_query(tmp_path):
    base, variant = _copy(tmp_path, "fan_in_24h"), _copy(tmp_path, "fan_in_7d")
    spec = load_rule(variant)
    assert spec.query_from == "fan_in_24h" and spec.sql_path == base / "rule.sql" and spec.kind == "sql"
    assert spec.sql() == load_rule(base).sql()


def test_a_shared_step_is_included_and_a_missing_one_refused(tmp_path):
    spec = load_rule(_copy(tmp_path, "fan_out_8h"))
    assert "include:" not in spec.sql() and "SEMI JOIN (SELECT DISTINCT hs, hd FROM hist" in spec.sql()
    broken = _copy(tmp_path / "b", "fan_out_8h")
    (broken / "rule.sql").write_text((broken / "rule.sql").read_text().replace(
        "include: relationship_counts", "include: no_such_step"))
    with pytest.raises(SpecError, match="includes 'no_such_step'"):
        load_rule(broken)


def test_variant_with_its_own_query_or_a_missing_sibling_is_refused(tmp_path):
    _copy(tmp_path, "fan_in_24h")
    variant = _copy(tmp_path, "fan_in_7d")
    (variant / "rule.sql").write_text("SELECT 1")
    with pytest.raises(SpecError, match="keep one"):
        load_rule(variant)
    (variant / "rule.sql").unlink()
    _edit(variant, query_from="fan_in_1h")
    with pytest.raises(SpecError, match="not a rule folder"):
        load_rule(variant)


def test_variant_parameters_are_checked_against_the_sibling_query(tmp_path):
    _copy(tmp_path, "fan_in_24h")
    variant = _copy(tmp_path, "fan_in_7d")
    data = yaml.safe_load((variant / "rule.yml").read_text())
    del data["parameters"]["service_kinds"]
    (variant / "rule.yml").write_text(yaml.safe_dump(data))
    with pytest.raises(SpecError, match="service_kinds"):
        load_rule(variant)


def test_history_reaches_at_least_the_lookback_and_must_be_a_duration(tmp_path):
    f = _copy(tmp_path)
    spec = load_rule(f)
    assert spec.lookback == "8h" and spec.history == "90d" and spec.history_td.days == 90
    _edit(f, history="1h")  # shorter than the lookback: the history is the lookback
    assert load_rule(f).history_td == load_rule(f).lookback_td
    _edit(f, history=None)
    assert load_rule(f).history_td == load_rule(f).lookback_td
    _edit(f, history="ninety days")
    with pytest.raises(SpecError, match="duration"):
        load_rule(f)


def test_a_list_parameter_names_a_group_of_account_kinds(tmp_path):
    from rules.spec import expand_groups
    from transforms.schema import KIND_GROUPS

    assert expand_groups(["@vasps"]) == list(KIND_GROUPS["vasps"])
    assert expand_groups(["casino", "@vasps", "otc_desk"]) == ["casino", *KIND_GROUPS["vasps"]]  # each kind once
    f = _copy(tmp_path)
    data = yaml.safe_load((f / "rule.yml").read_text())
    assert data["parameters"]["service_kinds"]["default"] == ["@services"]
    assert load_rule(f).defaults()["service_kinds"] == list(KIND_GROUPS["services"])
    data["parameters"]["service_kinds"]["default"] = ["@shops"]
    (f / "rule.yml").write_text(yaml.safe_dump(data))
    with pytest.raises(SpecError, match="names no group of account kinds"):
        load_rule(f)
