"""The role of a member whose evidence fits a trafficked worker (possible_trafficking_victim, given by
rules/casework/members.py) and the words every export uses for it: one place, so the report, the goAML narrative,
the tables and the workbench say the same thing.

People trafficked into scam compounds and forced to run the fraud are victims first. The non-punishment
principle (UN Trafficking in Persons Protocol as read by UNODC; OHCHR Recommended Principles on Human Rights and
Human Trafficking, principle 7) says they should not be punished for crimes they were compelled to commit.
"""

from __future__ import annotations

from collections.abc import Iterable

ROLE = "possible_trafficking_victim"
LABEL = "possible trafficking victim"
NON_PUNISHMENT = ("Consider the non-punishment principle before treating this person as a suspect: people "
                  "trafficked into scam compounds and forced to commit fraud should not be punished for it; refer "
                  "them to victim identification and support.")


def is_trafficked(member: dict) -> bool:
    return member.get("role") == ROLE or ROLE in (member.get("roles") or [])


def sentence(member_type: str | None, member_id: str | None, name: str | None, facts: Iterable[str] | None) -> str:
    """One sentence on one member: who, why it may be a trafficked worker, and the non-punishment caution."""
    why = "; ".join(f for f in (facts or []) if f)
    who = f"{member_type or 'member'} {member_id}" + (f" ({name})" if name else "")
    return f"{who} may be a victim of trafficking forced into crime" + (f": {why}." if why else ".") + f" {NON_PUNISHMENT}"


def member_sentences(members: Iterable[dict]) -> list[str]:
    """The sentences for the possible trafficking victims among network members."""
    return [sentence(m.get("member_type"), m.get("member_id"), m.get("name"), m.get("trafficking_facts"))
            for m in members if is_trafficked(m)]
