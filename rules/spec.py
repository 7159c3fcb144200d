"""Rule, typology and deployment-config specs: loaded from YAML and checked before anything runs.

A rule folder holds rule.yml (this RuleSpec) and rule.sql or rule.py (or names a sibling folder whose query it
reuses with `query_from`, a variant with other parameters). Checks on load: parameters typed and
their defaults valid, bands contiguous (lower inclusive, upper exclusive, each upper = next lower), every `$name`
in the SQL declared, evidence column names valid. That every declared evidence column is in the output is
checked by the engine on each run (the output schema is only known then).
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from transforms.errors import ConfigError
from transforms.schema import KIND_GROUPS

CATALOG_DIR = Path(__file__).parent / "catalog"
TYPOLOGY_DIR = Path(__file__).parent / "typologies"

# Bound by the engine for every rule (never declared in rule.yml).
BUILTIN_PARAMS = ("since", "until", "window_start", "history_start")
# Given to Python rules only: `shared` is a dict that lives for one detect run, where rules that build the same
# intermediate (rules/forwards.py) keep it and build it once.
PY_BUILTIN_PARAMS = ("shared",)
# Columns every rule output has; evidence columns come on top.
STANDARD_OUTPUT = ("subject_id", "value", "txn_ids", "window_start", "window_end")
OPTIONAL_OUTPUT = ("member_ids",)
# Data a rule may require; the engine checks each with a cheap query and skips the rule with a note if absent.
REQUIREMENTS = ("transactions", "crypto", "cash", "accounts", "accounts_kind", "parties", "events", "listed_addresses",
                "compound_events", "relocations")

_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_PARAM_REF = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


class SpecError(ConfigError, ValueError):
    """A rule, typology or config file is invalid; the message names the file and the field (usage-level, exit 2)."""


def parse_duration(text: str | int | float | timedelta) -> timedelta:
    if isinstance(text, timedelta):
        return text
    m = _DURATION.match(str(text))
    if not m:
        raise ValueError(f"{text!r} is not a duration like 30m, 24h, 7d, 2w")
    return timedelta(**{_UNITS[m.group(2)]: float(m.group(1))})


def format_duration(td: timedelta) -> str:
    secs = int(td.total_seconds())
    if secs % 86400 == 0 and secs >= 2 * 86400:
        return f"{secs // 86400}d"
    for unit, size in (("h", 3600), ("m", 60)):
        if secs % size == 0 and secs >= size:
            return f"{secs // size}{unit}"
    return f"{secs}s"


ParamType = Literal["int", "float", "decimal", "str", "bool", "duration", "list[str]"]


def coerce(ptype: str, value: Any) -> Any:
    """Value of a parameter as bound to SQL (int, float, Decimal, str, bool, timedelta, list[str])."""
    if ptype == "int":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or int(value) != value:
            raise ValueError(f"{value!r} is not an integer")
        return int(value)
    if ptype == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{value!r} is not a number")
        return float(value)
    if ptype == "decimal":
        if isinstance(value, bool):
            raise ValueError(f"{value!r} is not a decimal")
        try:
            return Decimal(str(value))
        except InvalidOperation:
            raise ValueError(f"{value!r} is not a decimal") from None
    if ptype == "str":
        if not isinstance(value, str):
            raise ValueError(f"{value!r} is not a string")
        return value
    if ptype == "bool":
        if not isinstance(value, bool):
            raise ValueError(f"{value!r} is not true/false")
        return value
    if ptype == "duration":
        return parse_duration(value)
    if ptype == "list[str]":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValueError(f"{value!r} is not a list of strings")
        return expand_groups(value)
    raise ValueError(f"unknown parameter type {ptype!r}")


def expand_groups(values: list[str]) -> list[str]:
    """'@services' and the other names of transforms.schema.KIND_GROUPS stand for their account kinds (in the
    group's order, each once), so that a kind is added to a group in one place."""
    out: list[str] = []
    for v in values:
        if v.startswith("@"):
            if v[1:] not in KIND_GROUPS:
                raise ValueError(f"{v!r} names no group of account kinds; known: {', '.join('@' + g for g in KIND_GROUPS)}")
            out += [k for k in KIND_GROUPS[v[1:]] if k not in out]
        elif v not in out:
            out.append(v)
    return out


def _jsonable(value: Any) -> Any:
    if isinstance(value, timedelta):
        return format_duration(value)
    if isinstance(value, Decimal):
        return str(value)
    return value


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Param(Strict):
    type: ParamType
    default: Any
    description: str

    @model_validator(mode="after")
    def _default_fits(self) -> "Param":
        coerce(self.type, self.default)
        return self


Limit = float | str | None  # a number, or "$param" naming a numeric parameter


class Band(Strict):
    lower: Limit = None  # inclusive; None = minus infinity
    upper: Limit = None  # exclusive; None = plus infinity
    score: float = Field(ge=0)
    reason: str  # sentence; {value} and {param} placeholders are filled in

    @field_validator("lower", "upper")
    @classmethod
    def _limit(cls, v: Limit) -> Limit:
        if isinstance(v, str) and not _PARAM_REF.fullmatch(v.strip()):
            raise ValueError(f"band limit {v!r} must be a number or $parameter")
        return v


class ResolvedBand(BaseModel):
    lower: float | None
    upper: float | None
    score: float
    reason: str


def resolve_bands(bands: list[Band], params: dict[str, Any], types: dict[str, str]) -> list[ResolvedBand]:
    def limit(v: Limit) -> float | None:
        if v is None:
            return None
        if isinstance(v, str):
            name = v.strip()[1:]
            if name not in params:
                raise ValueError(f"band limit {v} names no parameter")
            if types[name] not in ("int", "float", "decimal"):
                raise ValueError(f"band limit {v} names a {types[name]} parameter; it must be numeric")
            return float(params[name])
        return float(v)

    if not bands:
        raise ValueError("at least one band is needed")
    out = [ResolvedBand(lower=limit(b.lower), upper=limit(b.upper), score=b.score, reason=b.reason) for b in bands]
    for i, b in enumerate(out):
        if b.lower is not None and b.upper is not None and not b.lower < b.upper:
            raise ValueError(f"band {i}: lower {b.lower} must be below upper {b.upper}")
        if i and b.lower is None:
            raise ValueError(f"band {i}: only the first band may be open below")
        if i < len(out) - 1 and b.upper is None:
            raise ValueError(f"band {i}: only the last band may be open above")
        if i and out[i - 1].upper != b.lower:
            raise ValueError(f"bands not contiguous: band {i - 1} ends at {out[i - 1].upper}, band {i} starts at {b.lower}")
    return out


def _known(names: list[str], known, what: str) -> list[str]:
    bad = [n for n in names if n not in known]
    if bad:
        raise ValueError(f"unknown {what}(s) {bad}; known: {list(known)}")
    return names


class RuleSpec(Strict):
    id: str
    version: str
    typology: str
    description: str
    subject: Literal["account", "party"] = "account"
    sources: list[str] = []
    lookback: str  # duration read before `since` so windows that start earlier are complete
    # duration of history before `since` that the rule reads for the accounts or pairs it already picked (is this
    # relationship one-time?), bound as $history_start; the pattern itself is searched over the lookback only
    history: str | None = None
    parameters: dict[str, Param] = {}
    bands: list[Band]
    evidence: list[str] = []  # extra output columns stored in rule_hits.evidence
    requires: list[str] = ["transactions"]  # all must be present
    requires_any: list[str] = []  # at least one must be present (when given)
    # the narrow tables the engine builds once per run for the rules that read them (rules/transfers.py)
    reads: list[str] = []
    # a variant: run the query of a sibling rule folder with this folder's parameters, bands and lookback
    # (fan_in_7d is fan_in_24h with a longer window), so one query is written and tuned once
    query_from: str | None = None

    folder: Path | None = Field(default=None, exclude=True)
    kind: Literal["sql", "py"] = "sql"

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not _IDENT.match(v):
            raise ValueError(f"rule id {v!r} must be lower_snake_case")
        return v

    @field_validator("lookback", "history")
    @classmethod
    def _lookback(cls, v: str | None) -> str | None:
        if v is not None:
            parse_duration(v)
        return v

    @field_validator("reads")
    @classmethod
    def _reads(cls, v: list[str]) -> list[str]:
        from rules.transfers import TABLES

        return _known(v, TABLES, "shared table")

    @field_validator("requires", "requires_any")
    @classmethod
    def _requires(cls, v: list[str]) -> list[str]:
        return _known(v, REQUIREMENTS, "requirement")

    @model_validator(mode="after")
    def _check(self) -> "RuleSpec":
        for name in self.parameters:
            if not _IDENT.match(name) or name in BUILTIN_PARAMS or name in PY_BUILTIN_PARAMS:
                raise ValueError(f"parameter name {name!r} is not allowed")
        for col in self.evidence:
            if not _IDENT.match(col) or col in STANDARD_OUTPUT or col in OPTIONAL_OUTPUT:
                raise ValueError(f"evidence column {col!r} must be a new lower_snake_case name")
        resolve_bands(self.bands, self.defaults(), self.param_types())
        return self

    def param_types(self) -> dict[str, str]:
        return {k: p.type for k, p in self.parameters.items()}

    def defaults(self) -> dict[str, Any]:
        return {k: coerce(p.type, p.default) for k, p in self.parameters.items()}

    @property
    def lookback_td(self) -> timedelta:
        return parse_duration(self.lookback)

    @property
    def history_td(self) -> timedelta:
        """How far before `since` the rule's history reaches: its `history`, never less than its lookback."""
        return max(self.lookback_td, parse_duration(self.history)) if self.history else self.lookback_td

    @property
    def query_folder(self) -> Path:
        """The folder holding the query: this one, or the sibling named by query_from."""
        assert self.folder is not None
        return self.folder.parent / self.query_from if self.query_from else self.folder

    @property
    def sql_path(self) -> Path:
        return self.query_folder / "rule.sql"

    @property
    def py_path(self) -> Path:
        return self.query_folder / "rule.py"

    def sql(self) -> str:
        """The query, with each `/* include: name */` replaced by rules/sql/<name>.sql (a step several rules share)."""
        return _expand_includes(self.sql_path.read_text(), self.sql_path)


SQL_FRAGMENTS_DIR = Path(__file__).parent / "sql"
_INCLUDE = re.compile(r"/\*\s*include:\s*(\w+)\s*\*/")


def _expand_includes(sql: str, path: Path) -> str:
    def fragment(m: re.Match) -> str:
        f = SQL_FRAGMENTS_DIR / f"{m.group(1)}.sql"
        if not f.exists():
            raise SpecError(f"{path}: includes {m.group(1)!r}, but there is no {f}")
        return f.read_text().rstrip()
    return _INCLUDE.sub(fragment, sql)


def sql_param_names(sql: str) -> set[str]:
    """Named parameters used by a query ($name), ignoring -- comments and string literals."""
    text = re.sub(r"--[^\n]*", "", sql)
    text = re.sub(r"'(?:[^']|'')*'", "''", text)
    return set(_PARAM_REF.findall(text))


# libyaml's loader when PyYAML was built with it: the pack's YAML is read on every detect, ten times faster
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _load_yaml(path: Path) -> Any:
    try:
        return yaml.load(path.read_text(), Loader=_SAFE_LOADER)  # noqa: S506 (a safe loader)
    except yaml.YAMLError as exc:
        raise SpecError(f"{path}: not valid YAML ({exc})") from None


def load_rule(folder: Path) -> RuleSpec:
    yml = folder / "rule.yml"
    if not yml.exists():
        raise SpecError(f"{folder}: no rule.yml")
    data = _load_yaml(yml)
    if not isinstance(data, dict):
        raise SpecError(f"{yml}: expected a mapping")
    query_from = data.get("query_from")
    query_folder = folder
    if query_from is not None:
        query_folder = folder.parent / str(query_from)
        if (folder / "rule.sql").exists() or (folder / "rule.py").exists():
            raise SpecError(f"{yml}: has query_from: {query_from} and its own rule.sql/rule.py; keep one")
        if not _IDENT.match(str(query_from)) or not (query_folder / "rule.yml").exists():
            raise SpecError(f"{yml}: query_from: {query_from} is not a rule folder beside {folder.name}")
    has_sql, has_py = (query_folder / "rule.sql").exists(), (query_folder / "rule.py").exists()
    if has_sql == has_py:
        raise SpecError(f"{query_folder}: needs exactly one of rule.sql or rule.py")
    try:
        spec = RuleSpec(**data, folder=folder, kind="sql" if has_sql else "py")
    except Exception as exc:  # pydantic ValidationError or ValueError from checks
        raise SpecError(f"{yml}: {exc}") from None
    if spec.id != folder.name:
        raise SpecError(f"{yml}: id {spec.id!r} differs from the folder name {folder.name!r}")
    if has_sql:
        unknown = sql_param_names(spec.sql()) - set(spec.parameters) - set(BUILTIN_PARAMS)
        if unknown:
            raise SpecError(f"{spec.sql_path}: parameters {sorted(unknown)} are not declared in {yml}")
    return spec


def load_catalog(catalog_dir: Path = CATALOG_DIR) -> dict[str, RuleSpec]:
    rules = {}
    for folder in sorted(p for p in catalog_dir.iterdir() if p.is_dir() and not p.name.startswith(("_", "."))):
        if not (folder / "rule.yml").exists():
            continue
        spec = load_rule(folder)
        rules[spec.id] = spec
    return rules


class TypologySpec(Strict):
    id: str
    version: str
    description: str
    threshold: float = Field(gt=0)  # alert when the weighted score reaches it
    rules: dict[str, float]  # rule_id -> weight
    sources: list[str] = []

    @field_validator("rules")
    @classmethod
    def _weights(cls, v: dict[str, float]) -> dict[str, float]:
        if not v:
            raise ValueError("a typology needs at least one rule")
        if any(w < 0 for w in v.values()):
            raise ValueError("weights must be >= 0")
        return v


def load_typologies(typology_dir: Path = TYPOLOGY_DIR, rules: dict[str, RuleSpec] | None = None) -> dict[str, TypologySpec]:
    out = {}
    for path in sorted(typology_dir.glob("*.yml")):
        data = _load_yaml(path)
        try:
            t = TypologySpec(**data)
        except Exception as exc:
            raise SpecError(f"{path}: {exc}") from None
        if t.id != path.stem:
            raise SpecError(f"{path}: id {t.id!r} differs from the file name")
        if rules is not None:
            missing = sorted(set(t.rules) - set(rules))
            if missing:
                raise SpecError(f"{path}: rules {missing} are not in the catalogue")
        out[t.id] = t
    return out


# ---------------------------------------------------------------- deployment config


class RuleOverride(Strict):
    enabled: bool = True
    parameters: dict[str, Any] = {}
    bands: list[Band] | None = None


class TypologyOverride(Strict):
    enabled: bool = True
    threshold: float | None = Field(default=None, gt=0)
    weights: dict[str, float] = {}


class ListsConfig(Strict):
    include_compounds: bool = True  # compounds.wallets and compounds.accounts
    files: list[str] = []  # sanctions lists (OFAC SDN csv/xml, or one address per line); relative to the config


class DeployConfig(Strict):
    parameters: dict[str, Any] = {}  # applied to every rule that declares the parameter
    rules: dict[str, RuleOverride] = {}
    typologies: dict[str, TypologyOverride] = {}
    listed_addresses: ListsConfig = ListsConfig()
    scoring: dict[str, Any] = {}  # the scoring model's settings, checked by scoring/settings.py
    screening: dict[str, Any] = {}  # watch-list screening: threshold, ... (rules/screening/screen.py SETTINGS)
    base_dir: Path | None = Field(default=None, exclude=True)


def load_config(path: Path | str | None) -> DeployConfig:
    if path is None:
        return DeployConfig()
    path = Path(path)
    if not path.exists():
        raise SpecError(f"{path}: config file not found")
    data = _load_yaml(path) or {}
    try:
        cfg = DeployConfig(**data)
    except Exception as exc:
        raise SpecError(f"{path}: {exc}") from None
    cfg.base_dir = path.parent
    return cfg


class ResolvedRule(BaseModel):
    """A rule with the deployment's parameters and bands applied: what actually runs."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    spec: RuleSpec
    params: dict[str, Any]
    bands: list[ResolvedBand]
    enabled: bool = True

    @property
    def param_hash(self) -> str:
        blob = json.dumps(
            {"params": {k: _jsonable(v) for k, v in sorted(self.params.items())}, "bands": [b.model_dump() for b in self.bands]},
            sort_keys=True,
            default=str,
        )
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def params_json(self) -> str:
        return json.dumps({k: _jsonable(v) for k, v in sorted(self.params.items())}, default=str)

    def reason(self, band: ResolvedBand) -> str:
        """The band sentence with parameters filled in ({value} stays for the engine to fill per row)."""
        values = {k: _jsonable(v) for k, v in self.params.items()}
        return re.sub(r"\{([a-z_][a-z0-9_]*)\}", lambda m: str(values.get(m.group(1), m.group(0))), band.reason)


def resolve(rules: dict[str, RuleSpec], cfg: DeployConfig) -> dict[str, ResolvedRule]:
    declared = {name for r in rules.values() for name in r.parameters}
    unknown_globals = sorted(set(cfg.parameters) - declared)
    if unknown_globals:
        raise SpecError(f"config parameters {unknown_globals} are declared by no rule")
    unknown_rules = sorted(set(cfg.rules) - set(rules))
    if unknown_rules:
        raise SpecError(f"config names unknown rules {unknown_rules}")
    out = {}
    for rid, spec in rules.items():
        ov = cfg.rules.get(rid, RuleOverride())
        bad = sorted(set(ov.parameters) - set(spec.parameters))
        if bad:
            raise SpecError(f"config rules.{rid}.parameters: {bad} not declared by the rule")
        params = spec.defaults()
        for source, values in (("parameters", cfg.parameters), (f"rules.{rid}.parameters", ov.parameters)):
            for name, value in values.items():
                if name in spec.parameters:
                    try:
                        params[name] = coerce(spec.parameters[name].type, value)
                    except ValueError as exc:
                        raise SpecError(f"config {source}.{name}: {exc}") from None
        try:
            bands = resolve_bands(ov.bands or spec.bands, params, spec.param_types())
        except ValueError as exc:
            raise SpecError(f"rule {rid} with the config's overrides: {exc}") from None
        out[rid] = ResolvedRule(spec=spec, params=params, bands=bands, enabled=ov.enabled)
    return out


def resolve_typologies(typologies: dict[str, TypologySpec], cfg: DeployConfig) -> dict[str, TypologySpec]:
    unknown = sorted(set(cfg.typologies) - set(typologies))
    if unknown:
        raise SpecError(f"config names unknown typologies {unknown}")
    out = {}
    for tid, t in typologies.items():
        ov = cfg.typologies.get(tid)
        if ov is None:
            out[tid] = t
            continue
        if not ov.enabled:
            continue
        bad = sorted(set(ov.weights) - set(t.rules))
        if bad:
            raise SpecError(f"config typologies.{tid}.weights: {bad} are not rules of this typology")
        out[tid] = t.model_copy(
            update={"threshold": ov.threshold if ov.threshold is not None else t.threshold, "rules": {**t.rules, **ov.weights}}
        )
    return out
