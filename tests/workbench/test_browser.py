"""End to end in a real headless Chromium (Debian's package, driven by Playwright): an analyst logs in, filters the
queue, opens an alert and its network, decides; a supervisor approves; the export releases the goAML report.
Each page is saved as a screenshot (in $SCAMTRACE_SCREENSHOTS when set) and checked for what a person would see."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from flows.cli import app
from playwright.sync_api import expect
from workbench import casestore, serving

from .conftest import PASSWORDS, add_users, wait_port

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [pytest.mark.slow, pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")]
HOSTILE = '<img src=x onerror=alert(1)><script>alert("x")</script> Sokha'
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


@pytest.fixture
def served(store, tmp_path, monkeypatch):
    url = casestore.default_url(store)
    add_users(url)
    con = duckdb.connect(str(serving.current(store)))  # the test's copy: a hostile name on the top alert
    top = con.execute("SELECT alert_id FROM alerts WHERE typology_id <> 'exposure' AND network_id IS NOT NULL "
                      "ORDER BY priority_score DESC, alert_id LIMIT 1").fetchone()[0]
    con.execute("UPDATE alerts SET subject_name = ? WHERE alert_id = ?", [HOSTILE, top])
    con.close()
    port = 19000 + os.getpid() % 1000
    proc = subprocess.Popen([sys.executable, "-m", "flows.cli", "ui", "--db", str(store), "--port", str(port)],
                            cwd=Path(__file__).resolve().parents[2], env={**os.environ, "SCAMTRACE_CASES": url},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        wait_port(port)
        yield f"http://127.0.0.1:{port}", store, top
    finally:
        proc.terminate()
        proc.wait(30)


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield b
        finally:
            b.close()


def shots(tmp_path) -> Path:
    folder = Path(os.environ.get("SCAMTRACE_SCREENSHOTS") or tmp_path / "shots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def log_in(page, base: str, name: str) -> None:
    page.goto(base + "/")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", PASSWORDS[name])
    page.click("button[type=submit]")
    page.wait_for_url("**/queue")


def test_review_decide_approve_release(served, browser, tmp_path):
    base, store, top = served
    out = shots(tmp_path)
    ctx = browser.new_context(viewport={"width": 1400, "height": 900})
    page = ctx.new_page()
    problems: list[str] = []
    page.on("dialog", lambda d: (problems.append("dialog: " + d.message), d.dismiss()))  # an XSS would open one
    page.on("console", lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None)

    log_in(page, base, "ana")
    page.screenshot(path=str(out / "1-queue.png"))
    all_open = int(page.text_content("#total"))
    assert all_open > 50 and page.locator("#queue-table tbody tr").count() == 50  # paged
    page.select_option("select[name=priority]", "high")
    expect(page.locator("#total")).not_to_have_text(str(all_open))  # htmx swapped the table in
    high = int(page.text_content("#total"))
    assert 0 < high < all_open
    badges = page.locator("#queue-table tbody .badge").all_text_contents()
    assert badges and set(badges) == {"high"}
    assert "priority=high" in page.url  # the filter is in the address: a view can be shared or reloaded
    page.screenshot(path=str(out / "2-queue-high.png"))

    page.goto(f"{base}/alerts/{top}")
    assert page.text_content("#alert-id") == top
    subject = page.text_content("#subject")
    assert subject == HOSTILE  # shown as the text it is, not run
    n_evidence = page.locator("#evidence tbody tr").count()
    heading = page.text_content("section:has(#evidence) h2")
    assert n_evidence > 0 and f"({n_evidence}" in heading
    assert "data/samples/" in page.locator("#evidence tbody tr td:nth-child(8)").first.text_content()  # source file
    assert page.locator("#evidence tbody tr td:nth-child(9)").first.text_content().strip().isdigit()  # and row
    assert page.locator("#reasons li").count() >= 1 and page.locator("#rule-values tbody tr").count() >= 1
    page.screenshot(path=str(out / "3-alert.png"), full_page=True)

    page.click("#take")
    assert page.text_content("#case-status") == "in review"
    page.select_option("#disposition", "confirmed")
    page.fill("form.decide input[name=note]", "wallet pays the compound; holder matches the recruiter")
    page.click("#decide")
    assert page.text_content("#case-status") == "confirmed"
    assert "awaiting a supervisor's approval" in page.text_content("#case")
    assert page.locator("#approve").count() == 0  # an analyst is never offered approval

    page.click("#network-link")
    page.wait_for_selector("#graph.drawn", timeout=20000)
    nodes = int(page.get_attribute("#graph", "data-nodes"))
    assert nodes == page.locator("#members tbody tr").count() or nodes > 1
    painted = page.evaluate("""() => {
        const c = [...document.querySelectorAll('#graph canvas')].map(cv => {
          const d = cv.getContext('2d').getImageData(0, 0, cv.width, cv.height).data; let n = 0;
          for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n; });
        return Math.max(...c); }""")
    assert painted > 500  # the graph is drawn, not an empty box
    pos = page.evaluate("""() => { const n = window.scamtraceGraph.nodes()[0]; const p = n.renderedPosition();
        return {x: p.x, y: p.y, label: n.data('label')}; }""")
    box = page.locator("#graph").bounding_box()
    page.mouse.click(box["x"] + pos["x"], box["y"] + pos["y"])
    page.wait_for_selector("#member-link")
    assert page.text_content("#member-link") == pos["label"]
    page.mouse.wheel(0, -300)  # zoom works without error
    page.screenshot(path=str(out / "4-network.png"))

    page.click("header form button")  # log out
    page.wait_for_url("**/login")
    log_in(page, base, "sue")
    page.goto(f"{base}/alerts/{top}")
    page.click("#approve")
    assert page.text_content("#approved") == "approved by sue"
    page.screenshot(path=str(out / "5-approved.png"))
    page.goto(base + "/audit")
    assert page.locator("#audit tbody tr").count() > 5
    page.screenshot(path=str(out / "6-audit.png"))
    assert not problems, problems
    ctx.close()

    export = tmp_path / "export"
    env = {"SCAMTRACE_CASES": casestore.default_url(store)}
    r = CliRunner().invoke(app, ["export", "--out", str(export), "--format", "goaml", "--db", str(store)], env=env)
    assert r.exit_code == 0, r.output
    assert (export / "goaml" / f"alert_{top}.xml").is_file()
    assert [p.name for p in (export / "goaml").glob("*.xml")] == [f"alert_{top}.xml"]
    assert list((export / "goaml" / "drafts").glob("alert_*.xml"))


def test_pages_need_login_and_searching_finds_the_subject(served, browser, tmp_path):
    base, store, top = served
    page = browser.new_page()
    page.goto(f"{base}/alerts/{top}")
    assert page.url.endswith("/login")  # no data without login
    log_in(page, base, "bob")
    page.fill("header input[name=q]", "Sokha")
    page.press("header input[name=q]", "Enter")
    page.wait_for_url("**/search?q=Sokha")
    page.screenshot(path=str(shots(tmp_path) / "7-search.png"))
    assert page.locator("#hits li").count() >= 1
    page.click("#hits li a")
    page.wait_for_url(f"**/alerts/{top}")
    page.click("#subject")
    page.wait_for_selector("#account-id")
    page.screenshot(path=str(shots(tmp_path) / "8-account.png"), full_page=True)
    assert page.locator("#transactions tbody tr").count() >= 1  # the account's transactions
    assert top in page.text_content("main")  # and its alert


def test_a_designated_member_is_shown_first_with_its_listing(served, browser, tmp_path):
    """What an analyst sees on a network whose top member a government has designated: the member ranked first and
    marked designated, and the list, the listed name and the evidence sentence in their own section."""
    base, store, _top = served
    con = duckdb.connect(str(serving.current(store)), read_only=True)
    try:
        nid, member = con.execute("""SELECT network_id, member_id FROM network_members
                                     WHERE len(watchlist_ids) > 0 AND rank = 1 ORDER BY network_id LIMIT 1""").fetchone()
        list_name, entity = con.execute("SELECT list_name, entity_name FROM watchlist_matches WHERE subject_id = ? "
                                        "ORDER BY score DESC", [member]).fetchone()
    finally:
        con.close()
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    log_in(page, base, "ana")
    page.goto(f"{base}/networks/{nid}")
    page.wait_for_selector("#watchlist-matches")
    section = page.locator("#watchlist-matches")
    section.scroll_into_view_if_needed()
    page.screenshot(path=str(shots(tmp_path) / "9-designated.png"))
    assert section.is_visible()
    text = section.inner_text()
    assert member in text and entity in text and list_name in text
    first = page.locator("#members tbody tr").first
    assert member in first.inner_text() and "(designated)" in first.inner_text()
