"""The review workbench as a FastAPI application: server-rendered pages (Jinja2 + htmx) and the JSON API.

    scamtrace ui --db FILE [--cases URL] [--host 127.0.0.1] [--port 8765]

It reads the serving snapshot the batch publishes and writes only the case store (docs/workbench.md).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from workbench import api, pages
from workbench.context import NotLoggedIn, Workbench
from workbench.security import SecurityHeaders
from workbench.workflow import WorkflowError

HERE = Path(__file__).parent


def create_app(db_path: Path | str, cases_url: str, secure_cookies: bool = True) -> FastAPI:
    app = FastAPI(title="scamtrace workbench", docs_url=None, redoc_url=None, openapi_url="/api/openapi.json")
    wb = Workbench(db_path, cases_url, secure_cookies)
    app.state.wb = wb
    templates = Jinja2Templates(directory=str(HERE / "templates"))  # autoescape on for .html
    templates.env.filters.update(usd=_money, day=_day, when=_when)
    app.state.templates = templates
    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    @app.exception_handler(NotLoggedIn)
    async def _not_logged_in(request: Request, exc: NotLoggedIn):
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": "log in, or send Authorization: Bearer <token>"}, status_code=401,
                                headers={"WWW-Authenticate": "Bearer"})
        return RedirectResponse("/login", status_code=303)

    @app.exception_handler(WorkflowError)
    async def _workflow(request: Request, exc: WorkflowError):
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": str(exc)}, status_code=exc.status_code)
        return pages.message(request, str(exc), exc.status_code)

    @app.exception_handler(FileNotFoundError)
    async def _no_snapshot(request: Request, exc: FileNotFoundError):
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": str(exc)}, status_code=503)
        return pages.message(request, str(exc), 503)

    app.include_router(api.router)
    app.include_router(pages.router)
    return app


def _money(value) -> str:
    return "" if value is None else f"{float(value):,.2f}"


def _day(value) -> str:
    return value.strftime("%Y-%m-%d") if hasattr(value, "strftime") else ("" if value is None else str(value)[:10])


def _when(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if hasattr(value, "strftime") else ("" if value is None else str(value))
