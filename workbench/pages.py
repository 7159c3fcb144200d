"""Server-rendered pages: login, queue, alert, network, account, search, audit. Forms post with a CSRF token;
htmx swaps the queue table when a filter changes. Every value reaches the page through Jinja2's autoescape."""

from __future__ import annotations

import secrets
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from rules.casework import trafficking
from workbench import audit, queries, users, workflow
from workbench.context import Caller, Workbench, fingerprint
from workbench.security import LOGIN_COOKIE, SESSION_COOKIE, cookie_flags, same
from workbench.workflow import Forbidden, NotFound

router = APIRouter()


def _wb(request: Request) -> Workbench:
    return request.app.state.wb


def render(request: Request, name: str, caller: Caller | None, status_code: int = 200, **context) -> HTMLResponse:
    templates = request.app.state.templates
    return templates.TemplateResponse(request, name, {"caller": caller, "now": datetime.now(timezone.utc),
                                                      "q": quote, **context}, status_code=status_code)


def message(request: Request, text: str, status_code: int) -> HTMLResponse:
    try:
        caller = _wb(request).caller(request)
    except Exception:
        caller = None
    return render(request, "message.html", caller, status_code, text=text)


def _casework(request: Request) -> Caller:
    caller = _wb(request).caller(request)
    if caller.user.role not in workflow.CASEWORK_ROLES:
        raise Forbidden("alerts, networks and accounts are for analysts and supervisors; admins manage users "
                        "(`scamtrace users`) and read the audit trail")
    return caller


def _checked(request: Request, csrf: str) -> Caller:
    caller = _casework(request)
    if not _wb(request).csrf_ok(caller, csrf):
        raise Forbidden("this form has expired or did not come from the workbench: reload the page and try again")
    return caller


# -- login -------------------------------------------------------------------------------------------------------
@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request):
    token = secrets.token_urlsafe(24)
    resp = render(request, "login.html", None, login_csrf=token, error=None)
    resp.set_cookie(LOGIN_COOKIE, token, max_age=3600, **cookie_flags(_wb(request).secure_cookies))
    return resp


@router.post("/login", response_class=HTMLResponse)
def login(request: Request, username: str = Form(...), password: str = Form(...), csrf: str = Form("")):
    wb = _wb(request)
    client = request.client.host if request.client else "-"
    if not same(csrf, request.cookies.get(LOGIN_COOKIE)):
        return render(request, "login.html", None, 403, login_csrf=request.cookies.get(LOGIN_COOKIE) or "",
                      error="The login form expired: reload the page.")
    wait = wb.limiter.attempt(client, username[:80])
    if wait:
        audit.log(wb.eng, username, "login_refused", None, {"reason": "rate limit"}, client)
        return render(request, "login.html", None, 429, login_csrf=csrf,
                      error=f"Too many failed logins: try again in {max(1, wait // 60)} minute(s).")
    user = users.check_password(wb.eng, username, password)
    if user is None:
        audit.log(wb.eng, username, "login_failed", None, None, client)
        return render(request, "login.html", None, 401, login_csrf=csrf, error="Wrong user name or password.")
    wb.limiter.succeeded(client, username[:80])
    cookie, _ = users.open_session(wb.eng, user)
    audit.log(wb.eng, user.name, "login", None, None, client)
    resp = RedirectResponse("/queue", status_code=303)
    resp.set_cookie(SESSION_COOKIE, cookie, max_age=users.SESSION_HOURS * 3600, **cookie_flags(wb.secure_cookies))
    resp.delete_cookie(LOGIN_COOKIE, path="/")
    return resp


@router.post("/logout")
def logout(request: Request, csrf: str = Form("")):
    wb = _wb(request)
    caller = wb.caller(request)
    if wb.csrf_ok(caller, csrf):
        users.close_session(wb.eng, request.cookies.get(SESSION_COOKIE, ""))
        audit.log(wb.eng, caller.user.name, "logout", None, None, caller.client)
    resp = RedirectResponse("/login", status_code=303)
    resp.delete_cookie(SESSION_COOKIE, path="/")
    return resp


# -- queue -------------------------------------------------------------------------------------------------------
@router.get("/favicon.ico", include_in_schema=False)
def favicon():
    return Response(status_code=204)


@router.get("/", include_in_schema=False)
def home():
    return RedirectResponse("/queue", status_code=303)


@router.get("/queue", response_class=HTMLResponse)
def queue_page(request: Request, status: str = "open", priority: str = "", typology: str = "", compound: str = "",
               jurisdiction: str = "", assignee: str = "", age: str = "", page: int = 1):
    caller = _casework(request)
    wb = _wb(request)
    statuses = list(queries.OPEN) if status == "open" else ([] if status == "all" else [status])
    f = queries.QueueFilter(statuses, priority or None, typology or None, compound or None, jurisdiction or None,
                            assignee or None, age or None, queries.PAGE, (max(page, 1) - 1) * queries.PAGE)
    cur = wb.serving.cursor()
    rows, total = queries.queue(cur, wb.case_table(), f)
    audit.log(wb.eng, caller.user.name, "view_queue", None,
              {"status": status, "priority": priority, "typology": typology, "page": page}, caller.client)
    filters = {"status": status, "priority": priority, "typology": typology, "compound": compound,
               "jurisdiction": jurisdiction, "assignee": assignee, "age": age}
    context: dict[str, Any] = dict(rows=rows, total=total, page=max(page, 1), pages=max(1, -(-total // queries.PAGE)),
                   filters=filters, query="&".join(f"{k}={quote(v)}" for k, v in filters.items() if v))
    if request.headers.get("hx-request"):
        return render(request, "queue_table.html", caller, **context)
    return render(request, "queue.html", caller, facets=queries.facets(cur), states=workflow.STATES,
                  **context)


@router.post("/queue/next")
def queue_next(request: Request, csrf: str = Form("")):
    caller = _checked(request, csrf)
    wb = _wb(request)
    case = workflow.take_next(wb.eng, caller.user, queries.next_candidates(wb.serving.cursor(), wb.case_table()),
                              caller.client)
    if case is None:
        return message(request, "No unassigned open alert is left in the queue.", 200)
    return RedirectResponse(f"/alerts/{quote(case['case_id'])}", status_code=303)


# -- alert -------------------------------------------------------------------------------------------------------
@router.get("/alerts/{alert_id}", response_class=HTMLResponse)
def alert_page(request: Request, alert_id: str):
    caller = _casework(request)
    wb = _wb(request)
    cur, a, ev, n_ev = wb.viewed_alert(caller, alert_id)
    case = workflow.get(wb.eng, alert_id) or {"status": "new"}
    timeline = sorted(
        [{"at": e["booked_at"], "what": f"{e['direction']} {e['role']}", "detail": e["txn_id"]} for e in ev[:200]]
        + [{"at": datetime.fromisoformat(h["at"]), "what": h["action"], "detail": f"by {h['user_name']}"}
           for h in workflow.history(wb.eng, alert_id)],
        key=lambda t: (t["at"] is None, t["at"]))
    return render(request, "alert.html", caller, a=a, case=case, evidence=ev, n_evidence=n_ev,
                  rule_values=queries.rule_values(cur, a), notes=workflow.notes(wb.eng, alert_id),
                  links=queries.compound_links(cur, [a["subject_id"]]), timeline=timeline,
                  listed=queries.watchlist_matches(cur, [a["subject_id"]]),
                  trafficked=trafficking.member_sentences(
                      [m for m in queries.trafficked_members(cur, a["network_id"]) if m["member_id"] == a["subject_id"]]
                      if a.get("network_id") else []),
                  moves=_moves(case, caller), users=_case_workers(wb))


def _case_workers(wb: Workbench) -> list[str]:
    """Whom a supervisor can assign a case to."""
    return [u["name"] for u in users.listing(wb.eng) if not u["disabled"] and u["role"] in workflow.CASEWORK_ROLES]


def _moves(case: dict, caller: Caller) -> dict:
    """Which buttons to offer (the server checks again on the post)."""
    status, role = case.get("status", "new"), caller.user.role
    return {
        "take": status == "new" and not case.get("assignee"),
        "decide": [d for d, to in workflow.DECISIONS_TO_STATUS.items()
                   if status != "new" and workflow.allowed(status, to, role)],
        "approve": status == "confirmed" and caller.user.is_supervisor and not case.get("approved_by")
                   and case.get("decided_by") != caller.user.name,
        "reopen": status in workflow.FINAL and caller.user.is_supervisor,
        "release": status == "in_review",
    }


@router.post("/cases/{case_id}/{action}")
def case_action(request: Request, case_id: str, action: str, csrf: str = Form(""), disposition: str = Form(""),
                note: str = Form(""), assignee: str = Form(""), due: str = Form("")):
    caller = _checked(request, csrf)
    wb = _wb(request)
    try:
        kind, subject, row = wb.target(wb.serving.cursor(), case_id)
    except KeyError:
        raise NotFound(f"no alert or network {case_id}") from None
    if action == "take":
        workflow.assign(wb.eng, caller.user, case_id, kind, subject, caller.user.name, caller.client)
    elif action == "assign":
        workflow.assign(wb.eng, caller.user, case_id, kind, subject, assignee or None, caller.client)
    elif action == "release":
        workflow.assign(wb.eng, caller.user, case_id, kind, subject, None, caller.client)
    elif action == "decide":
        workflow.decide(wb.eng, caller.user, case_id, kind, subject, disposition, note or None, caller.client)
    elif action == "approve":
        workflow.approve(wb.eng, caller.user, case_id, caller.client, fingerprint(kind, row))
    elif action == "reopen":
        workflow.reopen(wb.eng, caller.user, case_id, caller.client)
    elif action == "note":
        workflow.add_note(wb.eng, caller.user, case_id, note, caller.client)
    elif action == "due":
        try:
            when = datetime.fromisoformat(due).replace(tzinfo=timezone.utc) if due else None
        except ValueError:
            raise workflow.WorkflowError(f"due date {due!r}: use YYYY-MM-DD") from None
        workflow.set_due(wb.eng, caller.user, case_id, kind, subject, when, caller.client)
    else:
        raise NotFound(f"no action {action}")
    return RedirectResponse(f"/{'alerts' if kind == 'alert' else 'networks'}/{quote(case_id)}", status_code=303)


# -- network, account, search, audit -----------------------------------------------------------------------------
@router.get("/networks/{network_id}", response_class=HTMLResponse)
def network_page(request: Request, network_id: str):
    caller = _casework(request)
    wb = _wb(request)
    cur, n = wb.viewed_network(caller, network_id)
    ms = queries.members(cur, network_id)
    case = workflow.get(wb.eng, network_id) or {"status": "new"}
    return render(request, "network.html", caller, n=n, members=ms, case=case, moves=_moves(case, caller), users=_case_workers(wb),
                  links=queries.compound_links(cur, [m["member_id"] for m in ms]), notes=workflow.notes(wb.eng, network_id),
                  listed=queries.watchlist_matches(cur, [m["member_id"] for m in ms]),
                  trafficked=trafficking.member_sentences(queries.trafficked_members(cur, network_id)))


@router.get("/accounts/{account_id:path}", response_class=HTMLResponse)
def account_page(request: Request, account_id: str):
    caller = _casework(request)
    wb = _wb(request)
    data = queries.account(wb.serving.cursor(), account_id)
    if not (data["account"] or data["parties"] or data["transactions"] or data["alerts"]):
        raise NotFound(f"no account or party {account_id} among the alerted subjects and network members")
    audit.log(wb.eng, caller.user.name, "view_account", account_id, None, caller.client)
    return render(request, "account.html", caller, d=data)


@router.get("/search", response_class=HTMLResponse)
def search_page(request: Request, q: str = ""):
    caller = _casework(request)
    wb = _wb(request)
    hits = queries.search(wb.serving.cursor(), q) if q.strip() else []
    if q.strip():
        audit.log(wb.eng, caller.user.name, "search", None, {"q": q[:200]}, caller.client)
    return render(request, "search.html", caller, query=q, hits=hits)


@router.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request, page: int = 1, user: str = ""):
    wb = _wb(request)
    caller = wb.caller(request)
    if not caller.user.can_audit:
        raise Forbidden("the audit trail is for supervisors and admins")
    rows, total = audit.entries(wb.eng, 100, (max(page, 1) - 1) * 100, user or None)
    audit.log(wb.eng, caller.user.name, "view_audit", None, {"page": page}, caller.client)
    return render(request, "audit.html", caller, rows=rows, total=total, page=max(page, 1), user=user)
