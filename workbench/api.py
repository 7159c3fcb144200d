"""The JSON API under /api: the same roles as the pages, a bearer token (`scamtrace users token NAME`) or a
session cookie (then with the X-CSRF-Token header on writes). Unauthenticated calls get 401, a wrong role 403."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from workbench import audit, queries, workflow
from workbench.context import Caller, Workbench, fingerprint
from workbench.workflow import Forbidden, NotFound, WorkflowError

router = APIRouter(prefix="/api")


def _wb(request: Request) -> Workbench:
    return request.app.state.wb


def casework_caller(request: Request) -> Caller:
    """Personal data is for the case workers (analysts and supervisors); admins manage users and the audit."""
    caller = _wb(request).caller(request)
    if caller.user.role not in workflow.CASEWORK_ROLES:
        raise Forbidden("alerts are for analysts and supervisors")
    return caller


async def _write_caller(request: Request) -> tuple[Caller, dict]:
    caller = casework_caller(request)
    if not _wb(request).csrf_ok(caller, request.headers.get("x-csrf-token")):
        raise Forbidden("missing or wrong X-CSRF-Token header for a session-authenticated write")
    try:
        body = await request.json() if (await request.body()) else {}
    except ValueError:
        raise WorkflowError("the request body is not JSON") from None
    if not isinstance(body, dict):
        raise WorkflowError("the request body must be a JSON object")
    return caller, body


def _json(value):
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "as_tuple"):  # Decimal
        return float(value)
    return value


def _case_view(case: dict | None) -> dict:
    keys = ("status", "assignee", "due_at", "decided_by", "decided_at", "disposition", "approved_by", "approved_at")
    return {k: (case or {}).get(k) for k in keys} | {"status": (case or {}).get("status") or "new"}


@router.get("/alerts")
def list_alerts(request: Request, status: str | None = None, priority: str | None = None, typology: str | None = None,
                compound: str | None = None, jurisdiction: str | None = None, assignee: str | None = None,
                age: str | None = None, limit: int = queries.PAGE, offset: int = 0):
    caller = casework_caller(request)
    wb = _wb(request)
    statuses = [s for s in (status or "").split(",") if s] or list(queries.OPEN)
    bad = [s for s in statuses if s not in workflow.STATES]
    if bad:
        raise WorkflowError(f"status {', '.join(bad)}: use {', '.join(workflow.STATES)}")
    f = queries.QueueFilter(statuses, priority, typology, compound, jurisdiction, assignee, age, limit, offset)
    rows, total = queries.queue(wb.serving.cursor(), wb.case_table(), f)
    audit.log(wb.eng, caller.user.name, "view_queue", None, {"filter": {"status": statuses, "offset": offset}}, caller.client)
    return {"alerts": _json(rows), "total": total, "limit": f.limit, "offset": f.offset}


@router.get("/alerts/{alert_id}")
def get_alert(request: Request, alert_id: str):
    caller = casework_caller(request)
    wb = _wb(request)
    cur, a, ev, n = wb.viewed_alert(caller, alert_id)
    return _json({"alert": a, "case": _case_view(workflow.get(wb.eng, alert_id)), "rule_values": queries.rule_values(cur, a),
                  "evidence": ev, "evidence_total": n, "notes": workflow.notes(wb.eng, alert_id)})


@router.post("/alerts/{alert_id}/decision")
async def post_decision(request: Request, alert_id: str):
    caller, body = await _write_caller(request)
    wb = _wb(request)
    kind, subject, _ = _target(wb, alert_id)
    case = workflow.decide(wb.eng, caller.user, alert_id, kind, subject, str(body.get("disposition") or ""),
                           body.get("note"), caller.client)
    return _json({"alert_id": alert_id, "case": _case_view(case)})


@router.post("/alerts/{alert_id}/approve")
async def post_approve(request: Request, alert_id: str):
    caller, _ = await _write_caller(request)
    wb = _wb(request)
    kind, _, row = _target(wb, alert_id)
    case = workflow.approve(wb.eng, caller.user, alert_id, caller.client, fingerprint(kind, row))
    return _json({"alert_id": alert_id, "case": _case_view(case)})


@router.post("/alerts/{alert_id}/assign")
async def post_assign(request: Request, alert_id: str):
    caller, body = await _write_caller(request)
    wb = _wb(request)
    kind, subject, _ = _target(wb, alert_id)
    assignee = body.get("assignee", caller.user.name)
    case = workflow.assign(wb.eng, caller.user, alert_id, kind, subject, assignee, caller.client)
    return _json({"alert_id": alert_id, "case": _case_view(case)})


@router.post("/next")
async def post_next(request: Request):
    caller, _ = await _write_caller(request)
    wb = _wb(request)
    case = workflow.take_next(wb.eng, caller.user, queries.next_candidates(wb.serving.cursor(), wb.case_table()),
                              caller.client)
    if case is None:
        return JSONResponse({"alert_id": None, "note": "no unassigned open alert is left"}, status_code=200)
    return _json({"alert_id": case["case_id"], "case": _case_view(case)})


@router.get("/networks/{network_id}/graph")
def network_graph(request: Request, network_id: str):
    caller = casework_caller(request)
    cur, _ = _wb(request).viewed_network(caller, network_id, "view_network_graph")
    return queries.graph(cur, network_id)


@router.get("/audit")
def get_audit(request: Request, limit: int = 100, offset: int = 0, user: str | None = None):
    wb = _wb(request)
    caller = wb.caller(request)
    if not caller.user.can_audit:
        raise Forbidden("the audit trail is for supervisors and admins")
    rows, total = audit.entries(wb.eng, min(max(limit, 1), 1000), max(offset, 0), user)
    audit.log(wb.eng, caller.user.name, "view_audit", None, {"offset": offset}, caller.client)
    return {"entries": rows, "total": total}


def _target(wb: Workbench, case_id: str) -> tuple[str, str | None, dict]:
    try:
        return wb.target(wb.serving.cursor(), case_id)
    except KeyError:
        raise NotFound(f"no alert or network {case_id}") from None
