"""Draft a mapping file for a delimited extract of a layout scamtrace has not seen (`scamtrace mapping suggest`).

The layout comes from sniffing (transforms/sources/sniff.py); each mapping field goes to the column whose name
matches a word of transforms/sources/header_words.yml best and whose values fit the field (dates for dates,
numbers for amounts, ISO codes for currencies, debit/credit markers for a direction). Number style, date formats,
direction markers and channel values are read off the sample. Every guess that could be wrong carries an
`# unsure:` comment, and the draft is run through the delimited reader on the file itself before it is written.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path

import polars as pl
import yaml

from transforms.errors import ConfigError
from transforms.schema import CHANNELS
from transforms.sources.sniff import Sniffed, sniff

WORDS_FILE = Path(__file__).parent / "sources" / "header_words.yml"
FIT = 0.9  # share of a column's non-empty sample values that must fit a field
_SPACELESS = re.compile(r"[\u0e00-\u0e7f\u1780-\u17ff\u1000-\u109f\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")
_ABBREVIATIONS = {"cpty": "counterparty", "ctpy": "counterparty", "acct": "account", "acc": "account", "txn": "transaction",
                  "trx": "transaction", "tran": "transaction", "trans": "transaction", "amt": "amount", "ccy": "currency",
                  "curr": "currency", "desc": "description", "ref": "reference", "no": "no", "nbr": "no", "num": "no",
                  "number": "no", "dt": "date", "bene": "beneficiary", "benef": "beneficiary"}
_DEBIT_MARKS = ["D", "DR", "DEBIT", "OUT", "-", "DB", "S", "SOLL", "AF", "支出", "借", "支", "出", "出金", "DÉBIT", "DEBET",
                "CARGO", "DARE", "NỢ", "GHI NỢ", "ถอน", "จ่าย", "OBCIĄŻENIE", "WYDATEK"]
_CREDIT_MARKS = ["C", "CR", "CREDIT", "IN", "+", "K", "KR", "H", "HABEN", "BIJ", "收入", "贷", "收", "入", "入金", "CRÉDIT",
                 "KREDIT", "ABONO", "AVERE", "CÓ", "GHI CÓ", "ฝาก", "รับ", "UZNANIE", "WPŁYW"]
_SYMBOLS = {"฿": "THB", "₫": "VND", "₱": "PHP", "៛": "KHR", "₭": "LAK", "€": "EUR", "£": "GBP", "¥": "CNY", "元": "CNY",
            "₩": "KRW", "₹": "INR", "RM": "MYR", "Rp": "IDR", "K": "MMK", "$": "USD"}
# currencies written as names in a currency column (the reader wants ISO codes: the draft makes it a constant)
_CURRENCY_NAMES = {"人民币": "CNY", "人民幣": "CNY", "RMB": "CNY", "美元": "USD", "US$": "USD", "港币": "HKD", "港元": "HKD",
                   "欧元": "EUR", "日元": "JPY", "円": "JPY", "บาท": "THB", "BAHT": "THB", "ĐỒNG": "VND", "VNĐ": "VND",
                   "RUPIAH": "IDR", "RINGGIT": "MYR", "PESO": "PHP", "RIEL": "KHR", "KIP": "LAK", "KYAT": "MMK"}
# a country's currency and clock, for guesses from a file name or the script of its text (always marked unsure)
_REGION = {"TH": ("THB", "Asia/Bangkok"), "KH": ("KHR", "Asia/Phnom_Penh"), "LA": ("LAK", "Asia/Vientiane"),
           "MM": ("MMK", "Asia/Yangon"), "VN": ("VND", "Asia/Ho_Chi_Minh"), "ID": ("IDR", "Asia/Jakarta"),
           "MY": ("MYR", "Asia/Kuala_Lumpur"), "PH": ("PHP", "Asia/Manila"), "SG": ("SGD", "Asia/Singapore"),
           "CN": ("CNY", "Asia/Shanghai"), "HK": ("HKD", "Asia/Hong_Kong"), "TW": ("TWD", "Asia/Taipei"),
           "JP": ("JPY", "Asia/Tokyo"), "KR": ("KRW", "Asia/Seoul")}
_SCRIPTS = [("TH", r"[\u0e00-\u0e7f]"), ("KH", r"[\u1780-\u17ff]"), ("LA", r"[\u0e80-\u0eff]"), ("MM", r"[\u1000-\u109f]"),
            ("VN", r"[ơưăđƠƯĂĐạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]"), ("KR", r"[\uac00-\ud7af]"),
            ("JP", r"[\u3040-\u30ff]"), ("CN", r"[\u4e00-\u9fff]")]
# the IANA zone a currency's home market keeps (a guess, always marked unsure)
_ZONES = {"THB": "Asia/Bangkok", "KHR": "Asia/Phnom_Penh", "LAK": "Asia/Vientiane", "MMK": "Asia/Yangon",
          "VND": "Asia/Ho_Chi_Minh", "IDR": "Asia/Jakarta", "MYR": "Asia/Kuala_Lumpur", "PHP": "Asia/Manila",
          "SGD": "Asia/Singapore", "CNY": "Asia/Shanghai", "HKD": "Asia/Hong_Kong", "TWD": "Asia/Taipei",
          "JPY": "Asia/Tokyo", "KRW": "Asia/Seoul", "INR": "Asia/Kolkata", "EUR": "Europe/Berlin", "GBP": "Europe/London",
          "PLN": "Europe/Warsaw", "CZK": "Europe/Prague", "SEK": "Europe/Stockholm", "CHF": "Europe/Zurich"}
_DATES = ["%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y:%m:%d", "%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y", "%m/%d/%Y", "%m-%d-%Y",
          "%d/%m/%y", "%d.%m.%y", "%m/%d/%y", "%d-%b-%Y", "%d %b %Y", "%d-%b-%y", "%d/%b/%Y", "%b %d, %Y", "%Y年%m月%d日"]
_TIMES = ["", " %H:%M:%S", " %H:%M", "T%H:%M:%S", "T%H:%M:%S%.f", " %H:%M:%S%.f", "T%H:%M:%S%z", " %I:%M:%S %p", " %I:%M %p"]
_CHECKED = ("booked_at", "value_date", "booked_time", "amount", "debit", "credit", "currency", "direction",
            "account", "counterparty_account", "channel", "counterparty_country")


@dataclass
class Suggestion:
    draft: dict
    unsure: dict[str, str] = field(default_factory=dict)  # dotted key -> why it may be wrong
    because: dict[str, str] = field(default_factory=dict)  # columns.<field> -> what matched
    unmapped: list[str] = field(default_factory=list)
    sniffed: Sniffed | None = None
    refused: dict[str, str] = field(default_factory=dict)  # field -> a column named like it whose values do not fit

    def why_missing(self, message: str) -> str:
        """What the sample says about a field a failed draft lacks ('columns.booked_at is required')."""
        return next((f"; {why}" for f, why in self.refused.items() if f"columns.{f}" in message and f not in self.draft["columns"]), "")


# ------------------------------------------------------------------------------------------------ header words
def _fold(text: str) -> str:
    """casefold, camelCase and snake_case split, accents off, punctuation to spaces, abbreviations expanded."""
    text = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", text)
    text = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text).casefold().replace("đ", "d"))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = re.sub(r"[^\w]+|_", " ", text).strip()
    return " ".join(_ABBREVIATIONS.get(t, t) for t in text.split())


@lru_cache(maxsize=1)
def _vocabulary() -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    data = yaml.safe_load(WORDS_FILE.read_text(encoding="utf-8"))
    channels = data.pop("channel_words")
    words = {k: [_fold(w) for line in v for w in str(line).split(",") if w.strip()] for k, v in data.items()}
    return words, channels


def _name_score(header: str, word: str) -> float:
    """1 for the same name; less the more of the header the word leaves unexplained; 0 when it is not in it."""
    h = _fold(header)
    if not h or not word:
        return 0.0
    if h == word:
        return 1.0
    if _SPACELESS.search(word):
        return 0.6 + 0.3 * len(word) / len(h) if word in h.replace(" ", "") else 0.0
    ht, wt = h.split(), word.split()
    if len(wt) == 1 and len(word) <= 2:
        return 0.0  # 'in', 'id', 'dc': only as the whole name
    if set(wt) <= set(ht):
        return 0.6 + 0.3 * len(wt) / len(ht)
    if len(wt) == 1 and len(word) >= 6 and any(word in t for t in ht):  # compounds: 'Wertstellungsdatum'
        return 0.55 + 0.3 * len(word) / len(h)
    from rapidfuzz import fuzz

    return 0.7 if len(h) > 5 and fuzz.ratio(h, word) >= 90 else 0.0  # a typo or a transliteration variant


def _best_word(header: str, field_name: str) -> tuple[float, str]:
    words, _ = _vocabulary()
    return max(((_name_score(header, w), w) for w in words.get(field_name, [])), default=(0.0, ""))


# ------------------------------------------------------------------------------------------------ value shapes
def _values(s: Sniffed, col: int) -> list[str]:
    return [r[col] for r in s.rows if r[col].strip()]


def _share(values: list[str], test) -> float:
    return sum(1 for v in values if test(v)) / len(values) if values else 0.0


_NUMBER = re.compile(r"^[(+-]?\s*(?:[^\d\s(+-]{1,3}\s?)?[\d][\d.,' \u00a0]*(?:\s?[^\d\s)-]{1,3})?\)?-?$")


def _is_number(v: str) -> bool:
    return bool(_NUMBER.match(v.strip())) and sum(ch.isdigit() for ch in v) >= 1 and not re.search(r"\d[/:]\d", v)


def _date_formats(values: list[str]) -> tuple[list[str], float, str]:
    """The formats that parse the values (fewest first covering them), the share parsed, and a doubt."""
    if not values:
        return [], 0.0, ""
    series = pl.Series(values[:500]).str.strip_chars()
    found: list[str] = []
    covered = pl.Series([False] * len(series))
    scores = []
    for d in _DATES:
        for t in _TIMES:
            fmt = d + t
            parsed = series.str.strptime(pl.Datetime("us", "UTC") if "%z" in fmt else pl.Datetime("us"), fmt,
                                         strict=False, exact=True)
            # '%Y' takes '25' as the year 25: only years a statement can have count (Buddhist-era ones too, to warn)
            ok = parsed.dt.year().is_between(1900, 2600).fill_null(False)
            if ok.any():
                scores.append((int(ok.sum()), fmt, ok))
    doubt = ""
    for n, fmt, ok in sorted(scores, key=lambda x: -x[0]):
        if (ok & ~covered).any():
            twin = _swap_day_month(fmt)
            if twin and any(f == twin and m == n for m, f, _ in scores):
                doubt = (f"day and month cannot be told apart in the sample (no day above 12); "
                         f"'{fmt}' taken, '{twin}' fits as well")
            found.append(fmt)
            covered = covered | ok
    years = series.str.extract(r"((?:19|20|24|25)\d\d)").cast(pl.Int32, strict=False).drop_nulls().to_list()
    if years and min(years) > 2400:
        doubt = ("years look like the Thai Buddhist era (2567 = 2024), which the reader does not convert; "
                 "re-export with Gregorian years")
    return found, sum(covered.to_list()) / len(covered), doubt


def _swap_day_month(fmt: str) -> str | None:
    if "%d" in fmt and "%m" in fmt:
        return fmt.replace("%d", "\0").replace("%m", "%d").replace("\0", "%m")
    return None


def _number_style(values: list[str]) -> tuple[str, str | None, str]:
    """decimal, thousands and a doubt, from how amounts are written."""
    comma_dec = dot_dec = 0
    thousands: Counter[str] = Counter()
    for v in values:
        x = re.sub(r"[^\d.,' \u00a0]", "", v).strip()
        if re.fullmatch(r"\d{1,3}(\.\d{3})+,\d+|\d+,\d{1,2}", x):
            comma_dec += 1
        if re.fullmatch(r"\d{1,3}(,\d{3})+\.\d+|\d+\.\d{1,2}|\d+\.\d{4,}", x):
            dot_dec += 1
        for mark in (",", ".", " ", "\u00a0", "'"):
            if re.fullmatch(rf"\d{{1,3}}({re.escape(mark)}\d{{3}})+([.,]\d+)?", x):
                thousands[mark] += 1
    decimal = "," if comma_dec > dot_dec else "."
    doubt = "" if (comma_dec or dot_dec) and not (comma_dec and dot_dec) else \
        ("the sample has no decimals to tell the decimal separator by" if not (comma_dec or dot_dec)
         else "amounts are written both ways ('1.234,56' and '1,234.56')")
    seps = [s for s, _ in thousands.most_common() if s != decimal]
    sep: str | None = seps[0] if seps else None
    return decimal, (" " if sep == "\u00a0" else sep), doubt


def _marker(value: str) -> str | None:
    v = value.strip().upper()
    if v in _DEBIT_MARKS:
        return "debit"
    if v in _CREDIT_MARKS:
        return "credit"
    return None


def _fits(field_name: str, values: list[str]) -> bool:
    if not values:
        return field_name in ("debit", "credit")  # a column of only debits leaves the credit column empty
    if field_name in ("booked_at", "value_date"):
        return _date_formats(values)[1] >= FIT
    if field_name == "booked_time":
        return _share(values, lambda v: bool(re.fullmatch(r"\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?(\s?[AP]M)?", v, re.I))) >= FIT
    if field_name in ("amount", "debit", "credit"):
        return _share(values, _is_number) >= FIT
    if field_name == "currency":
        from transforms.validate import iso_currencies

        codes = set(iso_currencies()) | {"USDT", "USDC"}
        return _share(values, lambda v: v.strip().upper() in codes) >= FIT
    if field_name == "counterparty_country":
        return _share(values, lambda v: bool(re.fullmatch(r"[A-Za-z]{2}", v.strip()))) >= FIT
    if field_name == "direction":
        return len(set(values)) <= 6 and _share(values, lambda v: _marker(v) is not None) >= 0.5
    if field_name in ("account", "counterparty_account"):
        return _share(values, lambda v: any(ch.isdigit() for ch in v)) >= 0.5
    if field_name == "channel":
        return len(set(values)) <= 60
    return True


# ------------------------------------------------------------------------------------------------ columns
def _assign(s: Sniffed, refused: dict[str, str]) -> tuple[dict[str, int], dict[str, str], list[int]]:
    """field -> column index, why, and the columns claimed by `ignore` (balances, fees); `refused` gets, per
    field, a column named like it whose values do not fit it."""
    words, _ = _vocabulary()
    candidates = []
    for col, name in enumerate(s.header):
        values = _values(s, col)
        for f in words:
            score, word = _best_word(name, f)
            if score and f in ("debit", "credit") and _best_word(name, "amount")[0]:
                score += 0.15  # '记账金额(支出)', 'Withdrawal Amount': a debit or credit amount, not the amount
            if score and (f == "ignore" or f not in _CHECKED or _fits(f, values)):
                candidates.append((score, f, col, word))
            elif score >= 0.75 and values:
                refused.setdefault(f, f"the column '{name}' is named like it, but its values (e.g. '{values[0][:20]}') do not fit")
    chosen: dict[str, int] = {}
    why: dict[str, str] = {}
    ignored: list[int] = []
    taken: set[int] = set()
    for score, f, col, word in sorted(candidates, key=lambda x: (-x[0], x[2])):
        if col in taken or (f in chosen and f != "ignore"):
            continue
        taken.add(col)
        if f == "ignore":
            ignored.append(col)
            continue
        chosen[f] = col
        why[f] = f"the header word '{word}'" + ("" if score >= 0.9 else f", a partial match ({score:.2f})")
    _by_values(s, chosen, why, taken)
    return chosen, why, ignored


def _by_values(s: Sniffed, chosen: dict[str, int], why: dict[str, str], taken: set[int]) -> None:
    """A booking time and an amount are needed: when no header names them, the one free column whose values
    are all dates (or all numbers, negatives among them) is taken, as a loose match."""
    free = [c for c in range(len(s.header)) if c not in taken]
    if "booked_at" not in chosen:
        dates = [c for c in free if _values(s, c) and _date_formats(_values(s, c))[1] >= 0.99]
        if len(dates) == 1:
            chosen["booked_at"] = dates[0]
            free.remove(dates[0])
            why["booked_at"] = "no header word; its values are all dates, a partial match"
    if not ({"amount", "debit", "credit"} & set(chosen)):
        signed = [c for c in free if _values(s, c) and _share(_values(s, c), _is_number) == 1
                  and any(v.startswith("-") for v in _values(s, c))]
        if len(signed) == 1:
            chosen["amount"] = signed[0]
            why["amount"] = "no header word; its values are all signed numbers, a partial match"


def _settle_amounts(s: Sniffed, chosen: dict[str, int], unsure: dict[str, str]) -> None:
    """One signed amount (with or without a direction column), or a debit and a credit column: not both."""
    if "amount" in chosen and "debit" in chosen and "credit" in chosen:
        signed = any(v.strip().startswith("-") or v.strip().endswith("-") for v in _values(s, chosen["amount"]))
        if signed or "direction" in chosen:
            del chosen["debit"], chosen["credit"]
        else:
            del chosen["amount"]
    if ("debit" in chosen) != ("credit" in chosen):
        lone = "debit" if "debit" in chosen else "credit"
        if "amount" not in chosen:
            chosen["amount"] = chosen.pop(lone)
            unsure["columns.amount"] = f"taken for the amount, though its name reads like a {lone} column"
        else:
            del chosen[lone]
    if "amount" in chosen and "direction" not in chosen:
        values = _values(s, chosen["amount"])
        if values and not any(v.strip().startswith(("-", "(")) or v.strip().endswith("-") for v in values):
            unsure["columns.amount"] = ("no amount in the sample is negative: if money out is not written with a "
                                        "minus, map columns.direction or columns.debit/credit")
    if "direction" in chosen and "amount" not in chosen:
        del chosen["direction"]


def _statement_account(s: Sniffed, chosen: dict[str, int], unsure: dict[str, str]) -> str | None:
    """An account column that varies row by row is the counterparty's; the statement's own number often sits
    in the preamble instead ('Account: 123-4-56789-0', an IBAN)."""
    if "account" in chosen:
        values = _values(s, chosen["account"])
        if len(set(values)) > max(3, len(values) * 0.5) and "counterparty_account" not in chosen:
            chosen["counterparty_account"] = chosen.pop("account")
            unsure["columns.counterparty_account"] = "a column named like an account whose value changes row by row"
    if "counterparty_institution" in chosen:  # one bank code on every row is the statement's own bank (a sort code)
        codes = {v for v in _values(s, chosen["counterparty_institution"])}
        if len(codes) == 1 and len(s.rows) >= 5:
            del chosen["counterparty_institution"]
    if "account" in chosen:
        return None
    for line in s.preamble:
        m = re.search(r"\b([A-Z]{2}\d{2}(?:\s?[A-Z0-9]{4}){2,7}(?:\s?[A-Z0-9]{1,4})?)\b", line)
        if m:
            return m.group(1).replace(" ", "")
    label = r"(?i)account|konto|compte|cuenta|conto|rachun|rekening|akaun|tài khoản|บัญชี|账号|账户|卡号|口座|계좌|គណនី|အကောင့်"
    for line in s.preamble:
        if re.search(label, line):
            m = re.search(r"(\d[\d\-* ]{5,}\d)", line)
            if m:
                return m.group(1).strip()
            m = re.search(r"(?:[:：]\s*\[?|\[)([^\]\s,;\"]{3,})", line)  # '支付宝账户：xx@example.com', '账号:[...]'
            if m:
                return m.group(1).strip()
    return None


def _currency(s: Sniffed, chosen: dict[str, int]) -> str | None:
    """A currency named in an amount column's header ('Betrag (EUR)', '金额(元)') or written in the amounts."""
    from transforms.validate import iso_currencies

    codes = set(iso_currencies())
    for f in ("amount", "debit", "credit"):
        if f in chosen:
            for token in re.findall(r"[A-Za-z]{3}|[^\w\s]|元", s.header[chosen[f]]):
                if token.upper() in codes:
                    return token.upper()
                if token in _SYMBOLS:
                    return _SYMBOLS[token]
            for v in _values(s, chosen[f])[:200]:
                for sym, code in _SYMBOLS.items():
                    if sym in v and (len(sym) == 1 or re.search(rf"(^|\s){sym}(\s|\d|$)", v)):
                        return code
                m = re.search(r"\b([A-Z]{3})\b", v)
                if m and m.group(1) in codes:
                    return m.group(1)
    for line in s.preamble:
        for token in re.findall(r"\b[A-Z]{3}\b", line):
            if token in codes and token not in ("THE", "AND", "FOR"):
                return token
    return None


def _currency_by_name(s: Sniffed, chosen: dict[str, int]) -> tuple[str, str] | None:
    """A column named like a currency that holds one currency's name ('人民币') rather than its code."""
    from transforms.validate import iso_currencies

    for col, name in enumerate(s.header):
        if col in chosen.values() or _best_word(name, "currency")[0] < 0.75:
            continue
        values = {v.strip().upper() for v in _values(s, col)}
        codes = {_CURRENCY_NAMES.get(v, v if v in iso_currencies() else "") for v in values}
        if len(codes) == 1 and "" not in codes:
            code = codes.pop()
            return code, f"the column '{name}' says {sorted(values)[0]}"
    return None


def _country(path: Path, s: Sniffed) -> tuple[str | None, str]:
    """The country a file is from, by a country code in its name ('selat_my_2025.csv') or the script of its text."""
    m = re.search(r"(?:^|[_\-. ])([a-z]{2})(?=[_\-. ]|$)", path.stem.lower())
    if m and m.group(1).upper() in _REGION:
        return m.group(1).upper(), f"the code '{m.group(1)}' in the file name"
    text = " ".join(" ".join(r) for r in s.rows[:300]) + " ".join(s.header)
    for country, pattern in _SCRIPTS:
        if len(re.findall(pattern, text)) >= 20:
            return country, "the script of the file's text"
    return None, ""


def _channel_values(values: list[str]) -> tuple[dict[str, str], list[str]]:
    _, words = _vocabulary()
    mapped, unknown = {}, []
    for v in sorted(set(values)):
        low = _fold(v)
        if low in CHANNELS:
            continue
        hit = next((c for c, ws in words.items() if any(_fold(w) == low or (len(_fold(w)) > 3 and _fold(w) in low)
                                                        or (_SPACELESS.search(w) and w in v) for w in ws)), None)
        if hit:
            mapped[v] = hit
        else:
            unknown.append(v)
    return mapped, unknown


def _place(path: Path, s: Sniffed, chosen: dict[str, int], draft: dict, unsure: dict[str, str],
           currency: str | None, timezone: str | None) -> dict[str, str]:
    """currency and country constants and the draft's timezone: given, else read off the file, else guessed."""
    constants: dict[str, str] = {}
    country, country_why = _country(path, s)
    ccy, ccy_why = currency, ""
    named = None if "currency" in chosen else _currency_by_name(s, chosen)
    if named and not ccy:
        ccy, ccy_why = named
    if not ccy and "currency" not in chosen:
        ccy, ccy_why = _currency(s, chosen), "from the amounts or their column name"
        if not ccy and country:
            ccy, ccy_why = _REGION[country][0], f"the currency of {country}, from {country_why}"
    if ccy:
        constants["currency"] = ccy
        if not currency:
            unsure["constants.currency"] = f"{ccy_why}; pass --currency to be sure"
    if country:
        constants["country"] = country
        unsure["constants.country"] = f"from {country_why}"
    if "currency" in chosen and not ccy:  # the zone of the file's most frequent currency
        ccy = Counter(v.strip().upper() for v in _values(s, chosen["currency"])).most_common(1)[0][0]
    zone = timezone or (_REGION[country][1] if country else _ZONES.get(ccy or "", "UTC"))
    draft["timezone"] = zone
    if not timezone:
        unsure["timezone"] = (f"the usual zone of {country or ccy}; set the bank's own" if zone != "UTC"
                              else "unknown; set the IANA zone of the bank's clock (e.g. Asia/Bangkok) or pass --timezone")
    return constants


# ------------------------------------------------------------------------------------------------ the draft
def suggest(path: Path, account: str | None = None, institution: str | None = None, currency: str | None = None,
            timezone: str | None = None) -> Suggestion:
    s = sniff(path)
    unsure: dict[str, str] = {}
    refused: dict[str, str] = {}
    chosen, why, ignored = _assign(s, refused)
    _settle_amounts(s, chosen, unsure)
    preamble_account = None if account else _statement_account(s, chosen, unsure)
    draft: dict = {"name": re.sub(r"[^a-z0-9_]+", "_", re.sub(r"[\d_-]{4,}.*$", "", path.stem.lower())).strip("_") or "bank",
                   "description": f"drafted from {path.name}; check every line marked unsure",
                   "files": [re.sub(r"\d{4,}[\d_-]*", "*", path.name)]}
    draft["encoding"] = s.encoding
    if not s.encoding_sure:
        unsure["encoding"] = "guessed from the bytes; if names look garbled after ingest, set the bank's encoding"
    draft["delimiter"] = "\\t" if s.delimiter == "\t" else s.delimiter
    if s.quote_char != '"':
        draft["quote_char"] = s.quote_char
    draft["header_row"] = s.header_row
    if s.renamed_duplicates:
        draft["rename_duplicate_columns"] = True
        unsure["rename_duplicate_columns"] = "the header repeats a column name; the repeats are named NAME_2, NAME_3"
    if s.header_row > 1:
        unsure["header_row"] = f"{s.header_row - 1} line(s) above the column names are skipped"

    amounts = [v for f in ("amount", "debit", "credit") if f in chosen for v in _values(s, chosen[f])]
    decimal, thousands, doubt = _number_style(amounts)
    draft["decimal"] = decimal
    if thousands:
        draft["thousands"] = thousands
    if doubt and amounts:
        unsure["decimal"] = doubt

    when = _values(s, chosen["booked_at"]) if "booked_at" in chosen else []
    if "booked_time" in chosen:
        times = _values(s, chosen["booked_time"])
        when = [f"{d} {t}" for d, t in zip(when, times)] if len(times) == len(when) else when
    formats, covered, doubt = _date_formats(when)
    if "value_date" in chosen:
        formats += [f for f in _date_formats(_values(s, chosen["value_date"]))[0] if f not in formats]
    draft["datetime_formats"] = formats or ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d"]
    if doubt:
        unsure["datetime_formats"] = doubt

    constants: dict[str, str] = {}
    if institution:
        constants["institution"] = institution
    if account or preamble_account:
        constants["account"] = account or preamble_account  # type: ignore[assignment]
        if not account:
            unsure["constants.account"] = "read from the lines above the header; pass --account to be sure"
    constants.update(_place(path, s, chosen, draft, unsure, currency, timezone))
    if constants:
        draft["constants"] = constants
    draft["columns"] = {f: s.header[c] for f, c in sorted(chosen.items(), key=lambda x: x[1])}

    if "direction" in chosen:
        found = Counter(_values(s, chosen["direction"]))
        debit = sorted(v for v in found if _marker(v) == "debit")
        credit = sorted(v for v in found if _marker(v) == "credit")
        draft["direction_values"] = {"debit": debit, "credit": credit}
        other = sorted(v for v in found if _marker(v) is None)
        if other:
            unsure["direction_values"] = (f"marker(s) {other} are neither debit nor credit; their rows are quarantined "
                                          "unless you list them")
    if "channel" in chosen:
        mapped, unknown = _channel_values(_values(s, chosen["channel"]))
        if mapped:
            draft["channel_values"] = mapped
        if unknown:
            unsure["channel_values"] = f"value(s) {unknown[:8]} not recognised; they load as channel 'other'"
    for f, c in chosen.items():
        if f"columns.{f}" not in unsure and "partial match" in why[f]:
            unsure[f"columns.{f}"] = why[f]
    unmapped = [s.header[i] + (" (ignored: a balance, fee or status)" if i in ignored else "")
                for i in range(len(s.header)) if i not in chosen.values()]
    return Suggestion(draft, unsure, {f"columns.{k}": v for k, v in why.items()}, unmapped, s, refused)


def to_yaml(sug: Suggestion, source: Path) -> str:
    """The draft as a commented mapping file."""
    def scalar(v) -> str:
        return yaml.safe_dump(v, default_flow_style=True, allow_unicode=True, width=10_000).strip().removesuffix("\n...").strip()

    def note(key: str) -> str:
        if key in sug.unsure:
            return f"  # unsure: {sug.unsure[key]}"
        return f"  # {sug.because[key]}" if key in sug.because else ""

    lines = [f"# Drafted by `scamtrace mapping suggest {source.name}` on {date.today().isoformat()}.",
             "# Check every line marked 'unsure', then: scamtrace ingest FILE --mapping THIS_FILE (docs/mapping.md)"]
    for key, value in sug.draft.items():
        if isinstance(value, dict):
            lines.append(f"{key}:" + note(key))
            for k, v in value.items():
                if isinstance(v, list):
                    lines.append(f"  {scalar(k)}: {scalar(v)}" + note(f"{key}.{k}"))
                else:
                    lines.append(f"  {k if key != 'channel_values' else scalar(k)}: {scalar(v)}" + note(f"{key}.{k}"))
        else:
            lines.append(f"{key}: {scalar(value)}" + note(key))
    if sug.unmapped:
        lines.append("# columns not mapped: " + ", ".join(sug.unmapped))
    return "\n".join(lines) + "\n"


@dataclass
class Check:
    rows: int = 0
    loaded: int = 0
    problems: list[tuple[str, int]] = field(default_factory=list)  # the commonest first reasons, with their rows


def check(path: Path, text: str, rows: int = 5000) -> Check:
    """Run the draft through the delimited reader on the file's first rows: how many would load, and why not."""
    from transforms.sources.base import csv_chunks
    from transforms.sources.delimited import layout_of, to_transactions
    from transforms.sources.mapping import load_mapping_text

    m = load_mapping_text(text, path.with_suffix(".mapping.yml"))
    out = Check()
    for header, frame in csv_chunks(path, layout_of(m), chunk_rows=rows):
        absent = [c for c in m.mapped_columns().values() if c not in header]
        if absent:
            raise ConfigError(f"column(s) {absent} not in the header the reader sees", path=path)
        got = to_transactions(frame.head(rows), header, m)
        out.rows = got.height
        out.loaded = int(got.select(pl.col("errors").list.len() == 0).sum().item())
        first_errors = got.select(pl.col("errors").list.first()).to_series().drop_nulls().to_list()
        out.problems = Counter(first_errors).most_common(3)
        break
    return out
