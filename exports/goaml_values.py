"""Values as goAML wants them: XML-safe text, dates, decimals, names split in two, phone numbers, IP addresses."""

from __future__ import annotations

import ipaddress
import re
from datetime import date, datetime, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Any


_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
BIC_RE = re.compile(r"^[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?$")
IBAN_RE = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{10,30}$")
# ITU calling codes of one or two digits; every other code has three.
_CC1 = {"1", "7"}
_CC2 = {"20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44", "45", "46", "47", "48", "49",
        "51", "52", "53", "54", "55", "56", "57", "58", "60", "61", "62", "63", "64", "65", "66", "81", "82", "84",
        "86", "90", "91", "92", "93", "94", "95", "98"}


def xml_text(value: Any) -> str:
    return _XML_BAD.sub("", str(value))


def sql_date(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return value.replace(microsecond=0).isoformat()
    if isinstance(value, date):
        return f"{value.isoformat()}T00:00:00"
    return None


def decimal_text(value: Any, places: int = 2) -> str:
    d = value if isinstance(value, Decimal) else Decimal(str(value))
    q = d.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    text = format(q, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def number_text(value: Any) -> str:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return "-" if value is None else str(value)


def split_name(name: str | None) -> tuple[str, str]:
    """(first_name, last_name): last word is taken as the last name; the full name is kept elsewhere."""
    words = (name or "").split()
    if not words:
        return "-", "unknown"
    if len(words) == 1:
        return "-", words[0]
    return " ".join(words[:-1]), words[-1]


def split_phone(phone: str | None) -> tuple[str, str] | None:
    if not phone:
        return None
    digits = re.sub(r"[^0-9]", "", phone)
    if not digits:
        return None
    if phone.strip().startswith("+"):
        for n in (1, 2, 3):
            if (n == 1 and digits[:1] in _CC1) or (n == 2 and digits[:2] in _CC2) or n == 3:
                return digits[:n], digits[n:] or digits
    return "-", digits


def ip_elements(ip: str | None) -> tuple[str, str] | None:
    try:
        addr = ipaddress.ip_address((ip or "").strip())
    except ValueError:
        return None
    return ("ipv4", str(addr)) if addr.version == 4 else ("ipv6", addr.exploded)
