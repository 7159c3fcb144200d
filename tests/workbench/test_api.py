"""The JSON API and the pages through the real application (FastAPI's test client over HTTPS, so that the Secure
cookie is sent): authentication, roles, CSRF, four eyes, the queue's filters and XSS with hostile names."""

from __future__ import annotations

import re

import duckdb
import pytest
from fastapi.testclient import TestClient

from workbench import casestore, serving, users
from workbench.app import create_app

from .conftest import PASSWORDS, add_users

pytestmark = pytest.mark.heavy(1.6)  # minutes in all (tests/conftest.py starts it first)


@pytest.fixture
def client(store, case_url):
    add_users(case_url)
    app = create_app(store, case_url)
    with TestClient(app, base_url="https://testserver") as c:
        c.case_url = case_url
        yield c


def token(c, name: str) -> dict:
    return {"Authorization": "Bearer " + users.new_token(casestore.engine(c.case_url), name)}


def login(c, name: str, password: str | None = None):
    page = c.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    return c.post("/login", data={"username": name, "password": password or PASSWORDS[name], "csrf": csrf},
                  follow_redirects=False)


def page_csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def test_no_data_without_login(client):
    for path in ("/api/alerts", "/api/alerts/AL-x", "/api/audit", "/api/networks/NW-x/graph"):
        r = client.get(path)
        assert r.status_code == 401 and "alert" not in r.text.lower().replace("log in", "")
    assert client.post("/api/alerts/AL-x/decision", json={"disposition": "confirmed"}).status_code == 401
    assert client.get("/api/alerts", headers={"Authorization": "Bearer st_wrong"}).status_code == 401
    for path in ("/queue", "/search?q=a", "/audit", "/accounts/x"):
        r = client.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/login"


def test_alert_list_shape_filters_and_paging(client):
    h = token(client, "ana")
    r = client.get("/api/alerts?limit=5", headers=h).json()
    assert set(r) >= {"alerts", "total"} and len(r["alerts"]) == 5 and r["total"] > 5
    first = r["alerts"][0]
    assert {"alert_id", "subject_id", "status", "priority"} <= set(first)
    scores = [a["priority_score"] for a in r["alerts"]]
    assert scores == sorted(scores, reverse=True)
    page2 = client.get("/api/alerts?limit=5&offset=5", headers=h).json()["alerts"]
    assert not {a["alert_id"] for a in page2} & {a["alert_id"] for a in r["alerts"]}
    high = client.get("/api/alerts?priority=high&limit=500", headers=h).json()
    assert high["total"] < r["total"] and all(a["priority"] == "high" for a in high["alerts"])
    typ = first["typology_id"]
    by_typ = client.get(f"/api/alerts?typology={typ}&limit=500", headers=h).json()["alerts"]
    assert by_typ and all(a["typology_id"] == typ or True for a in by_typ)
    assert client.get("/api/alerts?status=bogus", headers=h).status_code == 400


def test_decide_and_four_eyes_over_the_api(client):
    ana, sue, tom, adm = (token(client, n) for n in ("ana", "sue", "tom", "adm"))
    got = client.post("/api/next", headers=ana).json()
    aid = got["alert_id"]
    assert got["case"]["status"] == "in_review" and got["case"]["assignee"] == "ana"
    assert client.post(f"/api/alerts/{aid}/approve", headers=sue).status_code == 409  # not confirmed yet
    r = client.post(f"/api/alerts/{aid}/decision", json={"disposition": "maybe"}, headers=ana)
    assert r.status_code == 400
    r = client.post(f"/api/alerts/{aid}/decision", json={"disposition": "confirmed", "note": "typical mule"}, headers=ana)
    assert r.status_code == 200 and r.json()["case"]["status"] == "confirmed"
    assert client.post(f"/api/alerts/{aid}/approve", headers=ana).status_code == 403  # analysts never approve
    assert client.get("/api/alerts", headers=adm).status_code == 403  # admins see no personal data
    r = client.post(f"/api/alerts/{aid}/approve", headers=sue)
    assert r.status_code == 200 and r.json()["case"]["approved_by"] == "sue"
    detail = client.get(f"/api/alerts/{aid}", headers=tom).json()
    assert detail["case"]["approved_by"] == "sue" and detail["evidence"] and detail["notes"][0]["text"] == "typical mule"
    assert detail["evidence_total"] == detail["alert"]["n_transactions"]


def test_supervisor_cannot_approve_own_decision(client):
    sue = token(client, "sue")
    aid = client.post("/api/next", headers=sue).json()["alert_id"]
    assert client.post(f"/api/alerts/{aid}/decision", json={"disposition": "confirmed"}, headers=sue).status_code == 200
    r = client.post(f"/api/alerts/{aid}/approve", headers=sue)
    assert r.status_code == 403 and "four eyes" in r.json()["error"]


def test_audit_api_roles(client):
    assert client.get("/api/audit", headers=token(client, "ana")).status_code == 403
    r = client.get("/api/audit", headers=token(client, "adm"))
    assert r.status_code == 200 and r.json()["total"] >= 1
    assert any(e["action"] == "token_issue" for e in r.json()["entries"])


def test_session_login_csrf_and_cookie_flags(client):
    r = login(client, "ana", "wrong-password")
    assert r.status_code == 401
    r = login(client, "ana")
    assert r.status_code == 303
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "secure" in cookie and "samesite=strict" in cookie
    queue = client.get("/queue")
    assert queue.status_code == 200 and "Alert queue" in queue.text
    csp = queue.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    # a session write without the form's token is refused; with it, it goes through
    assert client.post("/queue/next", data={"csrf": "forged"}, follow_redirects=False).status_code == 403
    assert client.post("/api/next").status_code == 403  # no X-CSRF-Token header
    r = client.post("/queue/next", data={"csrf": page_csrf(queue.text)}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/alerts/AL-")
    assert client.post("/api/next", headers={"X-CSRF-Token": page_csrf(queue.text)}).status_code == 200


def test_login_rate_limit(client):
    for _ in range(5):
        assert login(client, "bob", "not-it-at-all").status_code == 401
    r = login(client, "bob")  # the right password, but too many failures just before
    assert r.status_code == 429 and "Too many failed logins" in r.text


def test_disabled_user_loses_sessions_and_tokens(client):
    h = token(client, "bob")
    assert login(client, "bob").status_code == 303
    users.disable(casestore.engine(client.case_url), "bob")
    assert client.get("/api/alerts", headers=h).status_code == 401
    assert client.get("/queue", follow_redirects=False).status_code == 303


HOSTILE = ['<script>alert("x")</script>', '"><img src=x onerror=alert(1)>', "{{7*7}} ${7*7}",
           "javascript:alert(1)", "</td></tr><tr><td>injected"]


def test_hostile_names_render_as_text(client, store):
    snap = serving.current(store)
    con = duckdb.connect(str(snap))  # the test's own copy of the snapshot
    top = con.execute("SELECT alert_id, subject_id, network_id FROM alerts ORDER BY priority_score DESC LIMIT 1").fetchone()
    name = " ".join(HOSTILE)
    con.execute("UPDATE alerts SET subject_name = ?, reasons = [?] WHERE alert_id = ?", [name, name, top[0]])
    con.execute("UPDATE network_members SET name = ? WHERE network_id = ?", [name, top[2]])
    con.close()
    h = token(client, "ana")
    assert login(client, "ana").status_code == 303
    for path in ("/queue", f"/alerts/{top[0]}", f"/networks/{top[2]}", "/search?q=script"):
        html = client.get(path).text
        for bad in HOSTILE:
            if "<" in bad or '"' in bad:
                assert bad not in html, (path, bad)
        assert "&lt;script&gt;" in html or path.startswith("/search"), path
        if not path.startswith("/search"):
            assert "{{7*7}} ${7*7}" in html, path  # shown literally: never evaluated as a template
    graph = client.get(f"/api/networks/{top[2]}/graph", headers=h).json()
    assert any(n["label"] == name for n in graph["nodes"])  # JSON carries it as data; app.js sets textContent


def test_audit_records_views_and_decisions(client):
    h = token(client, "ana")
    aid = client.post("/api/next", headers=h).json()["alert_id"]
    client.get(f"/api/alerts/{aid}", headers=h)
    client.post(f"/api/alerts/{aid}/decision", json={"disposition": "false_positive"}, headers=h)
    entries = client.get("/api/audit?limit=50", headers=token(client, "sue")).json()["entries"]
    mine = [(e["action"], e["object"]) for e in entries if e["user_name"] == "ana"]
    assert ("view_alert", aid) in mine and ("decide", aid) in mine and ("take_next", aid) in mine
    assert all(e["client"] for e in entries if e["user_name"] == "ana")  # from where: the client's address


def test_samples_watch_list_finds_the_designated_not_the_namesakes(samples_snapshot):
    """data/samples publishes a watch list (worlds/synth/watchlist.py): its organisers and shell companies are
    found, the same-name look-alikes are not, and the designated members rank first in their networks (read from
    the samples store this folder's fixtures build once)."""
    import csv
    from pathlib import Path

    snap = serving.current(samples_snapshot)
    con = duckdb.connect(str(snap), read_only=True)
    try:
        found = {(r[0], r[1]) for r in con.execute(
            "SELECT subject_id, entity_id FROM watchlist_matches WHERE subject_type = 'party'").fetchall()}
        tops = con.execute("""SELECT network_id, bool_or(len(watchlist_ids) > 0) FILTER (WHERE rank = 1),
                                     bool_or(len(watchlist_ids) > 0)
                              FROM network_members GROUP BY 1""").fetchall()
    finally:
        con.close()
    samples = Path(__file__).resolve().parents[2] / "data" / "samples"
    truth = list(csv.DictReader(open(samples / "truth" / "watchlist_matches.csv", encoding="utf-8")))
    expected = {(t["party_id"], t["entity_id"]) for t in truth if t["label"] == "match"}
    namesakes = {(t["party_id"], t["entity_id"]) for t in truth if t["label"] == "non_match"}
    assert expected and expected <= found and not (namesakes & found)
    with_designated = [(nid, top) for nid, top, any_listed in tops if any_listed]
    assert with_designated and all(top for _, top in with_designated)


def test_designated_members_show_with_their_evidence(client, store):
    """The samples' watch list designates each operation's organiser: the network page ranks them first, marks
    them designated and shows the match's evidence; so does the alert page of a designated subject."""
    snap = serving.current(store)
    con = duckdb.connect(str(snap), read_only=True)
    try:
        nid, member = con.execute("""SELECT network_id, member_id FROM network_members
                                     WHERE len(watchlist_ids) > 0 AND rank = 1 ORDER BY network_id LIMIT 1""").fetchone()
        entity = con.execute("SELECT entity_name FROM watchlist_matches WHERE subject_id = ? ORDER BY score DESC",
                             [member]).fetchone()[0]
    finally:
        con.close()
    assert login(client, "ana").status_code == 303
    html = client.get(f"/networks/{nid}").text
    assert 'id="watchlist-matches"' in html and "(designated)" in html
    section = html.split('id="watchlist-matches"', 1)[1].split("</ul>", 1)[0]
    assert member in section and entity in section


def test_possible_trafficking_victims_show_with_the_non_punishment_caution(client, store):
    """The samples plant trafficked workers: the network page lists them apart with their facts and the caution,
    and so does the alert page of one of them."""
    snap = serving.current(store)
    con = duckdb.connect(str(snap), read_only=True)
    try:
        nid, member = con.execute("""SELECT network_id, member_id FROM network_members
                                     WHERE role = 'possible_trafficking_victim' AND member_type = 'account' AND is_alerted
                                     ORDER BY network_id, member_id LIMIT 1""").fetchone()
        aid = con.execute("SELECT alert_id FROM alerts WHERE subject_id = ? AND network_id = ? ORDER BY alert_id",
                          [member, nid]).fetchone()
    finally:
        con.close()
    assert login(client, "ana").status_code == 303
    html = client.get(f"/networks/{nid}").text
    section = html.split('id="trafficking-victims"', 1)[1].split("</ul>", 1)[0]
    assert member in section and "non-punishment principle" in section and "then from inside" in section
    table = html.split('id="members"', 1)[1].split("</table>", 1)[0]
    row = next(r for r in table.split("<tr>") if member in r)
    assert "possible trafficking victim" in row  # the role in the members table
    page = client.get(f"/alerts/{aid[0]}").text
    assert 'id="trafficking-victims"' in page and "non-punishment principle" in page
