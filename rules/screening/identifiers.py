"""Strong identifiers that confirm or rule out a name match: birth date, id and registration numbers, wallets,
phones, e-mails, countries.

A name match between a customer and a listed person is a lead; the same passport number makes it a finding, and a
different birth date usually rules it out (lists give partial dates: a year agrees with any day of that year).
"""

from __future__ import annotations

from dataclasses import dataclass, field

CONFIRM = 0.5  # a strong identifier in common closes this share of the gap between the name score and 1
BIRTH_AGREES = 0.05  # added when the birth dates agree
BIRTH_DIFFERS = 0.7  # the score is multiplied by this when both sides give a birth date and they differ
STRONG = ("id_number", "registration_no", "wallet", "email", "phone")


@dataclass
class Comparison:
    features: list[str] = field(default_factory=list)  # what agreed
    conflicts: list[str] = field(default_factory=list)  # what disagreed
    facts: list[str] = field(default_factory=list)  # sentences for the evidence

    def adjust(self, name_score: float) -> float:
        score = name_score
        if any(f in STRONG for f in self.features):
            score += (1 - score) * CONFIRM
        if "birth_date" in self.features:
            score += BIRTH_AGREES
        if "birth_date" in self.conflicts:
            score *= BIRTH_DIFFERS
        return round(min(score, 1.0), 4)


def compare(subject: dict, entity: dict) -> Comparison:
    """subject: birth_date (ISO text), id_number, registration_no, phone, email, countries; entity: a
    watchlist_entities row (lists)."""
    c = Comparison()
    dob = subject.get("birth_date")
    listed = [d for d in entity.get("birth_dates") or [] if d]
    if dob and listed:
        if any(dob.startswith(d) for d in listed):
            c.features.append("birth_date")
            c.facts.append(f"birth date {dob} agrees with the listed {', '.join(listed)}")
        else:
            c.conflicts.append("birth_date")
            c.facts.append(f"birth date {dob} differs from the listed {', '.join(listed)}")
    for key, column, label in (("id_number", "id_numbers", "id / passport number"),
                               ("registration_no", "registration_nos", "registration number"),
                               ("email", "emails", "e-mail")):
        value = subject.get(key)
        if value and value in (entity.get(column) or []):
            c.features.append(key)
            c.facts.append(f"{label} {value} is listed")
    phone = subject.get("phone")
    if phone and len(phone) >= 8 and any(p[-8:] == phone[-8:] for p in entity.get("phones") or [] if len(p) >= 8):
        c.features.append("phone")
        c.facts.append(f"phone {phone} is listed")
    countries = set(subject.get("countries") or []) & set(entity.get("countries") or [])
    if countries:
        c.features.append("country")
        c.facts.append(f"country {', '.join(sorted(countries)).upper()} in common")
    return c
