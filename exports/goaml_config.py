"""The goAML config: reporting entity, person and location, and the FIU's code lists, merged over the defaults
(goaml_default.yml) and checked against the schema's enumerations."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from exports.goaml_schema import enumeration, load_schema
from transforms.errors import ConfigError

DEFAULT_CONFIG = Path(__file__).resolve().parent / "goaml_default.yml"


class GoamlConfigError(ConfigError, ValueError):
    """The goAML config file is unreadable or names a code the schema does not know (usage-level, exit 2)."""


def _merge(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for k, v in (over or {}).items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v)
        else:
            out[k] = v
    return out


CODE_LISTS = ("transmode", "funds", "indicators", "currency")


def load_config(path: Path | str | None = None) -> dict:
    """The packaged defaults overlaid with the user's file; codes checked against the schema."""
    cfg = yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    if path is not None:
        p = Path(path)
        try:
            user = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise GoamlConfigError(f"{p}: cannot read the goAML config ({str(exc).splitlines()[0]})") from None
        if not isinstance(user, dict):
            raise GoamlConfigError(f"{p}: the goAML config must be a mapping of settings")
        cfg = _merge(cfg, user)
        # A code list given by the user replaces the packaged one whole: its `default` then applies to every
        # channel / typology it does not name (a merge would keep the packaged "-" entries).
        for key in CODE_LISTS:
            if isinstance((user.get("codes") or {}).get(key), dict):
                cfg["codes"][key] = dict(user["codes"][key])
        if cfg.get("schema"):
            sp = Path(cfg["schema"])
            cfg["schema"] = str(sp if sp.is_absolute() else (p.parent / sp).resolve())
        cfg["_path"] = str(p)
    problems = check_config(cfg)
    if problems:
        where = cfg.get("_path", str(DEFAULT_CONFIG))
        raise GoamlConfigError("\n".join(f"{where}: {msg}" for msg in problems))
    return cfg


def check_config(cfg: dict) -> list[str]:
    problems: list[str] = []
    schema_path = cfg.get("schema")
    if schema_path and not Path(schema_path).is_file():
        return [f"schema: no such file {schema_path}"]
    schema = load_schema(schema_path)

    def check(key: str, value: Any, type_name: str, *, allow_null: bool = False) -> None:
        allowed = enumeration(schema, type_name)
        if value is None and allow_null:
            return
        if allowed is not None and str(value) not in allowed:
            sample = ", ".join(sorted(allowed)[:12])
            problems.append(f"{key}: {value!r} is not a {type_name} code of the schema (known: {sample}, ...)")

    rep = cfg.get("report", {})
    try:
        if int(rep.get("rentity_id", 0)) < 1:
            problems.append("report.rentity_id: must be an integer >= 1")
    except (TypeError, ValueError):
        problems.append("report.rentity_id: must be an integer >= 1")
    if not str(rep.get("rentity_branch") or "").strip():
        problems.append("report.rentity_branch: must not be empty")
    if rep.get("date_element") not in ("submission_date", "report_date"):
        problems.append("report.date_element: submission_date or report_date")
    check("report.submission_code", rep.get("submission_code"), "submission_type")
    check("report.report_code", rep.get("report_code"), "report_type")
    check("report.currency_code_local", rep.get("currency_code_local"), "currency_type")
    check("location.country_code", cfg.get("location", {}).get("country_code"), "country_type")
    check("location.address_type", cfg.get("location", {}).get("address_type"), "contact_type")
    codes = cfg.get("codes", {})
    for channel, code in (codes.get("transmode") or {}).items():
        check(f"codes.transmode.{channel}", code, "conduction_type")
    for channel, code in (codes.get("funds") or {}).items():
        check(f"codes.funds.{channel}", code, "funds_type")
    for typ, items in (codes.get("indicators") or {}).items():
        for code in items if isinstance(items, list) else [items]:
            check(f"codes.indicators.{typ}", code, "report_indicator_type")
    check("codes.address_type", codes.get("address_type"), "contact_type")
    check("codes.contact_type", codes.get("contact_type"), "contact_type")
    check("codes.communication_type", codes.get("communication_type"), "communication_type")
    for token, code in (codes.get("currency") or {}).items():
        check(f"codes.currency.{token}", code, "currency_type", allow_null=True)
    check("codes.unknown_country", codes.get("unknown_country"), "country_type")
    for key in ("first_name", "last_name"):
        if not str(cfg.get("reporting_person", {}).get(key) or "").strip():
            problems.append(f"reporting_person.{key}: must not be empty")
    try:
        if int(cfg.get("max_transactions") or 0) < 0:
            raise ValueError
    except (TypeError, ValueError):
        problems.append("max_transactions: an integer >= 0 (0 = no limit)")
    if str(cfg.get("validator") or "auto") not in ("auto", "xmlschema"):
        problems.append("validator: auto (libxml2, re-checked with xmlschema on failure) or xmlschema (XSD 1.1 only)")
    if str(cfg.get("target_version")) not in ("5.0", "5.1", "5.2"):
        problems.append("target_version: one of 5.0, 5.1, 5.2")
    return problems
