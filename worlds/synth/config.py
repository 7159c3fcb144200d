"""Knobs of the synthetic world: scale presets and their overrides (docs/synth.md).

A scale is a preset name or a dict of overrides; a dict may name its base preset under "preset".
Everything that shapes the output is here, so a (seed, knobs) pair names one world exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from datetime import date

from transforms.errors import ConfigError


class KnobError(ConfigError, ValueError):
    """A bad scale or knob: a usage error (exit code 2 on the command line)."""

def _typologies() -> tuple[str, ...]:
    """The typologies of rules/typologies that the generator plants: every one has a method of Scams (or of a
    mixin of it) named by its id (a typology without one is reported by tests/test_synth.py). The order is the
    methods' order in the classes, which fixes the random draws: the same seed gives the same bytes."""
    from rules.spec import load_typologies
    from worlds.synth.scams import Scams

    ids = set(load_typologies())
    names: list[str] = []
    for klass in Scams.__mro__:  # Scams' own typologies first, then its mixins' (worlds/synth/trafficking.py)
        names += [name for name in vars(klass) if name in ids and name not in names]
    return tuple(names)


TYPOLOGIES = _typologies()

DIFFICULTIES = ("easy", "normal", "hard")


@dataclass(frozen=True)
class Knobs:
    customers: int = 600  # bank customers (persons) of the background population
    days: int = 130  # length of the world; >= 100 so that dormant-then-active fits
    start: str = "2025-03-03"  # first day (UTC); keep the world in the past (validation refuses future rows)
    activity: float = 0.2  # background transfers per customer per day (payroll, remittances... come on top)
    prevalence: dict = field(default_factory=dict)  # typology -> planted instances (default: per_1000 rule)
    per_1000: float = 4.0  # planted instances of each typology per 1000 customers when not in `prevalence`
    min_instances: int = 2  # at least this many of each typology
    max_instances: int = 2000  # cap per typology (memory stays bounded: instances are built day by day)
    difficulty: str = "normal"  # easy | normal | hard: how close planted patterns sit to the rule thresholds
    lookalikes: float = 1.0  # multiplier on legitimate look-alike actors (merchants, payroll, traders...)
    bad_rows: bool = True  # plant a few malformed rows that the readers must quarantine
    logins_per_customer_day: float = 0.05
    cash_threshold_usd: float = 10_000.0  # cash reporting threshold, in USD as the structuring rule's default compares
    monthly_files: bool = False  # one bank extract per month (large runs) instead of one per bank
    statement_formats: bool = True  # also write one bank as camt.053 and one as MT940 when those readers exist

    def instances(self, typology: str) -> int:
        if typology in self.prevalence:
            return int(self.prevalence[typology])
        n = round(self.customers * self.per_1000 / 1000)
        return max(self.min_instances, min(self.max_instances, n))

    @property
    def start_date(self) -> date:
        return date.fromisoformat(self.start)


# Presets by (approximate) number of transactions. Background volume is customers * days * activity
# plus payroll/remittance/merchant traffic (about 1.4x that).
PRESETS: dict[str, dict] = {
    "tiny": {"customers": 250, "days": 110, "activity": 0.12, "min_instances": 1, "per_1000": 0},
    "sample": {"customers": 450, "days": 130, "activity": 0.17, "per_1000": 5.0},
    "small": {"customers": 2_500, "days": 150, "activity": 0.2},
    "medium": {"customers": 10_000, "days": 180, "activity": 0.2, "monthly_files": True},
    "1m": {"customers": 13_000, "days": 365, "activity": 0.18, "start": "2024-11-04", "logins_per_customer_day": 0.02,
           "monthly_files": True},
    "10m": {"customers": 130_000, "days": 365, "activity": 0.18, "start": "2024-11-04", "logins_per_customer_day": 0.01,
            "monthly_files": True},
    # fewer, busier customers: the population is what stays in memory (~3-4 KB per customer)
    "100m": {"customers": 450_000, "days": 365, "activity": 0.60, "start": "2024-11-04", "logins_per_customer_day": 0.005,
             "max_instances": 1000, "monthly_files": True},
}


def resolve(scale: str | dict) -> Knobs:
    if isinstance(scale, Knobs):
        return scale
    if isinstance(scale, str):
        if scale not in PRESETS:
            raise KnobError(f"unknown scale '{scale}'; use one of {', '.join(PRESETS)} or a dict of knobs")
        return replace(Knobs(), **PRESETS[scale])
    if not isinstance(scale, dict):
        raise KnobError("scale must be a preset name or a dict of knobs")
    over = dict(scale)
    base = over.pop("preset", "sample")
    known = {f.name for f in fields(Knobs)}
    unknown = sorted(set(over) - known)
    if unknown:
        raise KnobError(f"unknown knob(s) {unknown}; known: {sorted(known)}")
    k = replace(resolve(base), **over)
    if k.difficulty not in DIFFICULTIES:
        raise KnobError(f"difficulty must be one of {DIFFICULTIES}")
    bad = sorted(set(k.prevalence) - set(TYPOLOGIES))
    if bad:
        raise KnobError(f"unknown typology in prevalence: {bad}; known: {list(TYPOLOGIES)}")
    if k.days < 100:
        raise KnobError("days must be >= 100 (dormant-then-active needs 90 quiet days)")
    return k
