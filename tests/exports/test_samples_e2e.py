"""End to end over data/samples: ingest, detect, casework, export; every goAML file validates, verify is clean."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import networkx as nx
from lxml import etree

import pytest

from exports import export, goaml, verify
from tests.helpers import reference_dir
from transforms import store

pytestmark = pytest.mark.slow  # a whole world / server / pipeline run (`pytest -m 'not slow'` skips it)

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"

def test_samples_export_end_to_end(tmp_path, samples_built):
    """On a copy of the session's samples store (ingested, detected, built: tests/conftest.py; that the samples
    ingest cleanly is tests/test_synth.py's check)."""
    assert any(SAMPLES.glob("bank/*")), f"{SAMPLES} has no bank extracts: the samples are committed"
    db = tmp_path / "s.duckdb"
    shutil.copy(samples_built[0], db)

    con = store.connect(db, read_only=True)
    try:
        t0 = time.perf_counter()
        result = export(con, tmp_path / "out", formats=["csv", "goaml", "graphml", "html"])
        seconds = time.perf_counter() - t0
        n_alerts = con.execute("SELECT count(*) FROM alerts").fetchall()[0][0]
    finally:
        con.close()
    out = tmp_path / "out"
    assert result["counts"]["alerts"] == n_alerts > 0
    g = result["goaml"]
    assert g["invalid"] == [] and g["skipped"] == []
    files = sorted((out / "goaml").glob("*.xml"))
    assert len(files) == len(g["valid"]) == n_alerts + result["counts"]["networks"]
    # Independent re-check of every file against the packaged schema (libxml2: no XSD 1.1-only constructs),
    # and of the smallest ones with the XSD 1.1 processor, against the reference copy where present.
    fast = goaml.load_fast_schema(None)
    for f in files:
        assert fast.validate(etree.parse(str(f), etree.XMLParser(huge_tree=True))), (f.name, fast.error_log)
    schema = goaml.load_schema(str(reference_dir("goaml") / "goAMLSchema_5.0.1.xsd"))
    for f in sorted(files, key=lambda p: p.stat().st_size)[:5]:
        schema.validate(str(f))
    # a crypto transfer carries its virtual-asset facts
    assert any("virtual asset transfer" in f.read_text(encoding="utf-8") for f in files if f.name.startswith("network_"))
    g = nx.read_graphml(out / "network.graphml", force_multigraph=True)
    assert g.number_of_nodes() > 0 and all("role" in d for _, d in g.nodes(data=True))
    assert len(list((out / "report").glob("NW-*.html"))) == result["counts"]["networks"]
    assert verify(out) == []
    assert seconds < 120, seconds
