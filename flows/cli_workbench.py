"""The workbench's commands: `scamtrace ui`, `scamtrace users ...`, `scamtrace audit ...` (registered by flows/cli.py)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from transforms.errors import ScamtraceError

users_app = typer.Typer(help="Workbench users: add, list, disable, API tokens.", no_args_is_help=True)
audit_app = typer.Typer(help="The workbench's audit trail.", no_args_is_help=True)

CasesOption = typer.Option(None, "--cases", help="case store URL (default $SCAMTRACE_CASES, else <db>.cases.sqlite "
                                                  "beside the store; postgresql://... for teams)")


def _operator() -> str:
    """Who ran a users command, for the audit trail: the operating-system account."""
    import getpass

    try:
        return "cli:" + getpass.getuser()
    except (KeyError, OSError):
        return "cli"


def _cases(cases: Optional[str], db: Path) -> str:
    from workbench.casestore import default_url

    return cases or default_url(db)


def register(app: typer.Typer, guard, db_of, db_option, console) -> None:
    app.add_typer(users_app, name="users")
    app.add_typer(audit_app, name="audit")

    @app.command()
    def ui(
        host: str = typer.Option("127.0.0.1", "--host", help="address to listen on (keep 127.0.0.1 behind a reverse proxy)"),
        port: int = typer.Option(8765, "--port", help="port"),
        cases: Optional[str] = CasesOption,
        insecure_cookies: bool = typer.Option(False, "--insecure-cookies",
                                              help="send the session cookie over plain HTTP from another host (testing only)"),
        db: Optional[Path] = db_option,
    ) -> None:
        """Serve the case review workbench (alert queue, decisions, four-eyes approval, audit trail)."""

        def body() -> int:
            import uvicorn

            from workbench import casestore, serving
            from workbench.app import create_app

            path = db_of(db)
            url = _cases(cases, path)
            casestore.engine(url)
            if serving.current(path) is None:
                if not path.exists():
                    raise ScamtraceError(f"no database at {path}: run `scamtrace run` first or pass --db")
                from transforms.store import connect

                con = connect(path, wait_seconds=60)
                try:
                    serving.publish(con, path)
                finally:
                    con.close()
            console.print(f"workbench on http://{host}:{port}/ (store {path}, case store {casestore.redact(url)}); "
                          "Ctrl-C stops it", highlight=False, soft_wrap=True)
            uvicorn.run(create_app(path, url, secure_cookies=not insecure_cookies), host=host, port=port,
                        log_level="warning", proxy_headers=True, server_header=False)
            return 0

        guard(body)

    @users_app.command("add")
    def users_add(
        name: str = typer.Argument(..., help="user name (no spaces)"),
        role: str = typer.Option(..., "--role", help="analyst | supervisor | admin"),
        password_stdin: bool = typer.Option(False, "--password-stdin", help="read the password from standard input"),
        cases: Optional[str] = CasesOption,
        db: Optional[Path] = db_option,
    ) -> None:
        """Add a user; the password is asked for (or read from stdin), and kept only as an argon2id hash."""

        def body() -> int:
            from workbench import casestore, users

            if password_stdin:
                password = sys.stdin.readline().rstrip("\r\n")
            else:
                password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
            users.add(casestore.engine(_cases(cases, db_of(db))), name, role, password, by=_operator())
            console.print(f"user {name} added as {role}", highlight=False)
            return 0

        guard(body)

    @users_app.command("token")
    def users_token(name: str = typer.Argument(...), cases: Optional[str] = CasesOption,
                    db: Optional[Path] = db_option) -> None:
        """Print a new bearer token for the JSON API (shown once; only its hash is kept)."""

        def body() -> int:
            from workbench import casestore, users

            print(users.new_token(casestore.engine(_cases(cases, db_of(db))), name, by=_operator()))
            return 0

        guard(body)

    @users_app.command("disable")
    def users_disable(name: str = typer.Argument(...), cases: Optional[str] = CasesOption,
                      db: Optional[Path] = db_option) -> None:
        """Disable a user: its sessions and tokens stop working at once."""

        def body() -> int:
            from workbench import casestore, users

            users.disable(casestore.engine(_cases(cases, db_of(db))), name, by=_operator())
            console.print(f"user {name} disabled", highlight=False)
            return 0

        guard(body)

    @users_app.command("list")
    def users_list(cases: Optional[str] = CasesOption, db: Optional[Path] = db_option) -> None:
        """List the users and their roles."""

        def body() -> int:
            from workbench import casestore, users

            for u in users.listing(casestore.engine(_cases(cases, db_of(db)))):
                console.print(f"{u['name']}\t{u['role']}\t{'disabled' if u['disabled'] else 'active'}", highlight=False)
            return 0

        guard(body)

    @audit_app.command("verify")
    def audit_verify(cases: Optional[str] = CasesOption, db: Optional[Path] = db_option) -> None:
        """Recompute the audit trail's hash chain; exit 1 at the first changed, removed or inserted entry."""

        def body() -> int:
            from workbench import audit, casestore

            url = _cases(cases, db_of(db))
            if not casestore.exists(url):
                raise ScamtraceError(f"no case store at {casestore.redact(url)}: pass --cases or --db")
            ok, msg, _ = audit.verify(casestore.engine(url, create=False))
            if ok:
                console.print(msg, highlight=False)
            else:
                typer.echo(f"error: {msg}", err=True)
            return 0 if ok else 1

        guard(body)
