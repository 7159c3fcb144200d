from rules import catalog_doc
from rules.spec import load_catalog


def test_docs_rules_md_is_current():
    # fails after a rule.yml change until `python -m rules.catalog_doc` rewrites the catalogue
    assert catalog_doc.main(["--check"]) == 0


def test_every_rule_and_its_parameters_are_documented():
    text = catalog_doc.render()
    for rid, spec in load_catalog().items():
        assert f"#### `{rid}` ({spec.kind}" in text and f"v{spec.version}" in text
        for name in spec.parameters:
            assert f"| `{name}` |" in text, (rid, name)


def test_a_stale_catalogue_is_rewritten():
    stale = f"intro\n{catalog_doc.START}\nold text\n{catalog_doc.END}\nrest\n"
    new = catalog_doc.updated(stale)
    assert new.startswith("intro\n") and new.endswith("rest\n") and "old text" not in new
    assert "#### `fan_in_24h`" in new
