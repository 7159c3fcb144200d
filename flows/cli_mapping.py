"""`scamtrace mapping suggest FILE`: draft a mapping file for an unknown delimited layout (registered by flows/cli.py)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from transforms.errors import ScamtraceError

mapping_app = typer.Typer(help="Mapping files for delimited bank extracts.", no_args_is_help=True)


def register(app: typer.Typer, guard, console, err_console) -> None:
    app.add_typer(mapping_app, name="mapping")

    @mapping_app.command()
    def suggest(
        file: Path = typer.Argument(..., help="a delimited extract (CSV, TSV, semicolon...) of the layout"),
        account: Optional[str] = typer.Option(None, "--account", help="the statement's account, when no column holds it"),
        institution: Optional[str] = typer.Option(None, "--institution", help="bank code or BIC: account ids become CODE:<number>"),
        currency: Optional[str] = typer.Option(None, "--currency", help="the currency, when no column holds it"),
        timezone: Optional[str] = typer.Option(None, "--timezone", help="IANA zone of the bank's times, e.g. Asia/Bangkok"),
        out: Optional[Path] = typer.Option(None, "--out", help="write the draft here (default: print it)"),
    ) -> None:
        """Draft a mapping file: sniff encoding, delimiter, header, number and date styles, guess the columns
        (many languages), mark unsure guesses, and try the draft on the file before writing it."""

        def body() -> int:
            from transforms.mapping_suggest import check, suggest as draft, to_yaml

            if not file.is_file():
                raise ScamtraceError("no such file", path=file)
            sug = draft(file, account=account, institution=institution, currency=currency, timezone=timezone)
            text = to_yaml(sug, file)
            try:
                result = check(file, text)
            except ScamtraceError as exc:
                if out is None:
                    sys.stdout.write(text)
                    sys.stdout.flush()
                hint = next((f"pass --{o}" for o in ("account", "currency") if o in exc.message),
                            "name the column in the draft printed above and save it")
                problem = exc.message.removesuffix("; see docs/mapping.md").removeprefix("Value error, ")
                raise ScamtraceError(f"the draft does not work yet ({problem}{sug.why_missing(problem)}); {hint}",
                                     path=file) from None
            if out is not None:
                out.write_text(text, encoding="utf-8")
            else:
                sys.stdout.write(text)
                sys.stdout.flush()
            s = sug.sniffed
            ending = {"\r\n": "CRLF", "\n": "LF", "\r": "CR"}[s.line_ending]
            err_console.print(f"{file.name}: {s.encoding}, {ending} line endings, delimiter {s.delimiter!r}, header on line "
                              f"{s.header_row}; {len(sug.draft['columns'])} column(s) mapped, {len(sug.unsure)} unsure; "
                              f"the reader loads {result.loaded} of the first {result.rows} row(s)"
                              + (f" (written to {out})" if out else ""), highlight=False, soft_wrap=True)
            for reason, n in result.problems:
                err_console.print(f"  {n} row(s): {reason}", highlight=False, soft_wrap=True, markup=False)
            return 0 if result.loaded else 1

        guard(body)
