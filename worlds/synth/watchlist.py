"""The synthetic world's watch list: reference/watchlist.ftm.json (FollowTheMoney JSON lines) and its truth.

What a designating authority would publish about the world's operations, written the way lists write names:
  - every operation's organiser as a Person, family name first in capitals ("LI Yong"), with birth date and
    nationality, and a Sanction (programme, authority, listing date);
  - every operation's shell company as a Company under its long legal form ("... TRADING COMPANY LIMITED") with its
    registration number, and its listed compound wallet as a CryptoWallet;
  - look-alikes that must not match: for each organiser, a different person of the same name (another birth date
    and nationality), and unrelated designated persons and companies.
truth/watchlist_matches.csv says which KYC party each listed entity is (match) or is not (non_match).
"""

from __future__ import annotations

import csv
import json
from datetime import date, timedelta
from pathlib import Path

AUTHORITY = "Synthetic designating authority"
PROGRAM = "SYNTH-TCO (transnational criminal organisations, scam centres)"
LIST_DATE = "2025-09-08"
UNRELATED = (
    ("Person", "WONG Kar Fai", "1968-03-02", "hk"), ("Person", "SOK Vanna", "1979-11-21", "kh"),
    ("Person", "THAN Htike Aung", "1985-06-30", "mm"), ("Person", "PHAM Quoc Bao", "1972-01-15", "vn"),
    ("Company", "BRIGHT HORIZON DIGITAL ASSETS LIMITED", None, "kh"),
    ("Company", "GREAT WALL PAYMENT TECHNOLOGY CO., LTD.", None, "mm"),
)


def write(out: Path, ops) -> int:
    """Write the list and its truth; returns the number of listed entities."""
    lines: list[dict] = []
    truth: list[tuple[str, str, str, str]] = []
    for o in sorted(ops, key=lambda o: o.k):
        org = o.organiser.holder
        if org is not None:
            pid = f"synth-person-{o.k}"
            family, _, given = org.latin_name.partition(" ")
            lines.append(_entity(pid, "Person", {"name": [f"{family.upper()} {given}".strip()],
                                                 "alias": [org.name] if org.name != org.latin_name else [],
                                                 "birthDate": [org.birth_date] if org.birth_date else [],
                                                 "nationality": [org.nationality.lower()] if org.nationality else []}))
            lines.append(_sanction(pid))
            truth.append((org.party_id, f"synth:{pid}", "match", "the operation's organiser"))
            if org.birth_date:
                twin = f"synth-twin-{o.k}"
                other = (date.fromisoformat(org.birth_date) - timedelta(days=365 * 9 + 40)).isoformat()
                lines.append(_entity(twin, "Person", {"name": [f"{family.upper()} {given}".strip()],
                                                      "birthDate": [other], "nationality": ["tw"]}))
                lines.append(_sanction(twin))
                truth.append((org.party_id, f"synth:{twin}", "non_match", "same name, another birth date"))
        shell = o.shell.holder
        if shell is not None:
            cid = f"synth-company-{o.k}"
            listed_name = shell.latin_name.upper().replace("CO., LTD.", "COMPANY LIMITED").replace(" LTD.", " LIMITED")
            lines.append(_entity(cid, "Company", {"name": [listed_name],
                                                  "registrationNumber": [shell.registration_no] if shell.registration_no else [],
                                                  "country": [shell.country.lower()] if shell.country else []}))
            lines.append(_sanction(cid))
            wallet = o.wallet_listed
            lines.append(_entity(f"synth-wallet-{o.k}", "CryptoWallet", {
                "publicKey": [wallet.number], "currency": ["USDT"], "holder": [cid]}))
            truth.append((shell.party_id, f"synth:{cid}", "match", "the operation's shell company"))
    for i, (schema, name, born, country) in enumerate(UNRELATED):
        eid = f"synth-other-{i}"
        props = {"name": [name], "birthDate": [born] if born else [],
                 ("nationality" if schema == "Person" else "country"): [country]}
        lines.append(_entity(eid, schema, props))
        lines.append(_sanction(eid))
    path = out / "reference" / "watchlist.ftm.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        for line in lines:
            fh.write(json.dumps(line, ensure_ascii=False, sort_keys=True) + "\n")
    with open(out / "truth" / "watchlist_matches.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["party_id", "entity_id", "label", "why"])
        w.writerows(truth)
    return sum(1 for line in lines if line["schema"] != "Sanction")


def _entity(eid: str, schema: str, props: dict) -> dict:
    return {"id": eid, "schema": schema, "properties": {k: v for k, v in props.items() if v},
            "datasets": ["synth"], "last_change": f"{LIST_DATE}T00:00:00"}


def _sanction(eid: str) -> dict:
    return _entity(f"{eid}-sanction", "Sanction", {"entity": [eid], "program": [PROGRAM], "authority": [AUTHORITY],
                                                   "startDate": [LIST_DATE]})
