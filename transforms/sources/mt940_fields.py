"""What the fields of an MT940 statement line mean: account identifications, IBANs, the keyword sub-fields of
:86:, placeholder references and channels. Shared by the library path (mt940.py) and the column path
(mt940_columns.py), so that both map a field the same way.
"""

from __future__ import annotations

import re

from transforms.sources.camt import GVC_CHANNEL

_BIC = re.compile(r"^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$")
IBAN_TOKEN = re.compile(r"\b([A-Z]{2}[0-9]{2}[A-Z0-9]{11,30})\b")
_ACCOUNT_CHARS = re.compile(r"^[A-Za-z0-9/.\-, ]+$")
_CCY_SUFFIX = re.compile(r"(?<=[0-9])[A-Z]{3}$")
UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
SLASH_KEYS = ("EREF", "IBAN", "BIC", "NAME", "REMI", "CNTP", "BENM", "ORDP", "UETR", "TRCD", "MARF", "CSID", "PREF",
              "ULTD", "ULTC", "ULTB", "PURP", "RTRN", "ADDR", "ISDT", "OCMT", "CHGS", "IREF", "KREF", "TRTP", "EXCH")
SLASH_KEY = re.compile(r"/(" + "|".join(SLASH_KEYS) + r")/")
PLACEHOLDER_REFS = {"", "NONREF", "NOTPROVIDED", "NONE"}
# SWIFT transaction type (the 3 letters after N/F/S in :61:) -> channel
SWIFT_TYPE_CHANNEL = {"CHK": "cheque", "CHG": "fee", "COM": "fee", "TRF": "transfer", "STO": "transfer",
                      "DDT": "transfer", "RTI": "transfer", "BOE": "cheque", "TCK": "cheque"}
# Dutch booking texts at the start of :86: (ABN AMRO 'GEA' = cash machine, 'BEA' = card terminal)
NL_CASH_OUT = re.compile(r"^(GEA\s|.*\bGELDAUTOMAAT\b)", re.IGNORECASE | re.DOTALL)
NL_CARD = re.compile(r"^(BEA\s|.*\bBETAALAUTOMAAT\b)", re.IGNORECASE | re.DOTALL)


def iban_ok(value: str) -> bool:
    v = value.replace(" ", "").upper()
    if not re.fullmatch(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}", v):
        return False
    digits = "".join(str(int(ch, 36)) for ch in v[4:] + v[:4])
    return int(digits) % 97 == 1


def join_details(text: str | None) -> str:
    """:86: lines are cut at 65 characters mid-word: full lines join without a space, short ones with one."""
    if not text:
        return ""
    lines = [ln.rstrip("\r") for ln in text.split("\n")]
    out = ""
    for i, ln in enumerate(lines):
        out += ln
        if i < len(lines) - 1:
            out += "" if len(ln) >= 65 else " "
    return re.sub(r"\s+", " ", out).strip()


def slash_fields(text: str) -> dict[str, str]:
    """'/EREF/x/NAME/y' keyword sub-fields (SWIFT MT940 structured :86:, Dutch and SEPA banks)."""
    compact = text.replace("\n", "")
    found = list(SLASH_KEY.finditer(compact))
    out: dict[str, str] = {}
    for i, m in enumerate(found):
        end = found[i + 1].start() if i + 1 < len(found) else len(compact)
        value = compact[m.end():end].strip().strip("/").strip()
        out.setdefault(m.group(1), value)
    return out


def split_account(value: str | None, default_inst: str | None) -> tuple[str | None, str | None, str | None]:
    """:25: text -> (institution, number, error)."""
    if value is None or not value.strip():
        return None, None, "account: the statement has no :25: account identification"
    v = value.strip()
    if not _ACCOUNT_CHARS.match(v):
        return None, None, f"account: ':25:' value '{v[:40]}' is not an account identification"
    compact = v.replace(" ", "").upper()
    if iban_ok(compact):
        return None, compact, None
    parts = [x for x in compact.split("/") if x]
    if len(parts) >= 2 and re.fullmatch(r"[A-Z]{3}", parts[-1]):
        parts = parts[:-1]  # trailing '/CCY'
    if len(parts) >= 2 and (_BIC.match(parts[0]) or parts[0].isdigit()):
        number = "".join(parts[1:])
        if iban_ok(number):
            return None, number, None
        return parts[0], number, None
    number = _CCY_SUFFIX.sub("", "".join(parts))
    return default_inst, number, None


def clean_ref(value) -> str | None:
    if value is None:
        return None
    v = str(value).strip()
    return None if v.upper() in PLACEHOLDER_REFS else v


def channel_of(gvc: str | None, swift_type: str | None, text: str) -> str:
    if gvc and gvc in GVC_CHANNEL:
        return GVC_CHANNEL[gvc]
    if text and NL_CASH_OUT.match(text):
        return "cash_withdrawal"
    if text and NL_CARD.match(text):
        return "card"
    if swift_type and len(swift_type) == 4 and swift_type[1:] in SWIFT_TYPE_CHANNEL:
        return SWIFT_TYPE_CHANNEL[swift_type[1:]]
    return "transfer"
