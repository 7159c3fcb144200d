"""Latin spellings of a name written in the region's scripts, the way lists and passports spell them.

A sanctions list writes 佘智江 as "She Zhijiang" and สมชาย as "Somchai"; a bank's KYC may hold either. Each script goes
through the library that knows it: Chinese through pypinyin (pinyin, and Wade-Giles for Taiwan and older lists),
Thai through pythainlp's Royal Thai General System (the government's standard, used in Thai passports), Vietnamese
by dropping diacritics (rigour does that itself), Khmer and Lao through anyascii. Burmese has no library that writes
the conventional spellings (Aung, Kyaw, Hlaing, Htun, ...), so common name syllables are looked up in a table
(BURMESE) and anything else goes through anyascii. Legal-form words and honorifics in those scripts are dropped
before the conversion: the Latin side's are handled by rigour (Co., Ltd., Mr, ...) and HONORIFICS below.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Honorifics of the region that rigour's person-prefix list lacks (Latin spellings, lower case)
HONORIFICS = {"u", "daw", "ko", "maung", "khun", "nai", "nang", "oknha", "okhna", "lok", "neak", "dato", "datuk",
              "dato'", "datin", "tan sri", "puan", "sri", "haji", "hajjah", "bapak", "ibu", "ong", "ba", "anh", "chi"}
_LATIN_PREFIXES = ("tan sri ", "dato' sri ", "dato sri ", "lok chumteav ")
# Words of the scripts themselves that are not part of the name: legal forms and honorifics
SCRIPT_NOISE = (
    "บริษัท", "จำกัด", "มหาชน", "ห้างหุ้นส่วน", "นางสาว", "นาย", "นาง",  # Thai: company, limited, public, partnership, Miss/Mr/Mrs
    "有限责任公司", "股份有限公司", "有限公司", "集团", "集團", "控股", "公司",  # Chinese: (limited) company, group, holdings
    "ក្រុមហ៊ុន", "ឯ.ក", "លោកស្រី", "លោក", "ឧកញ៉ា",  # Khmer: company, sole proprietorship, Mrs, Mr, Oknha
    "ကုမ္ပဏီ", "လီမိတက်", "ဦး", "ဒေါ်",  # Burmese: company, limited, U, Daw
)
# Legal forms of the region in Latin letters that rigour does not know, rewritten as the English forms it knows
# (matched on the name folded to ASCII lower case): Vietnamese, pinyin and romanised Thai
LEGAL_LATIN = tuple((re.compile(p), english) for p, english in (
    (r"\bcong ty (?:tnhh|trach nhiem huu han)(?: (?:mot thanh vien|mtv))?\b", "company limited"),
    (r"\bcong ty (?:co phan|cp)\b|\bctcp\b", "joint stock company"),
    (r"\bcong ty\b", "company"),
    (r"\b(?:gufen )?youxian (?:zeren )?gongsi\b", "company limited"),
    (r"\bjituan\b", "group"),
    (r"\bkonggu\b", "holdings"),
    (r"\bborisat\b", "company"),
    (r"\bchamkat\b", "limited"),
    (r"\bmahachon\b", "public"),
))

# Common Burmese name syllables -> conventional spelling (as in passports, lists and the press)
BURMESE = {
    "အောင်": "Aung", "ကျော်": "Kyaw", "မင်း": "Min", "လှိုင်": "Hlaing", "ထွန်း": "Htun", "ဇော်": "Zaw",
    "မြင့်": "Myint", "ဝင်း": "Win", "စိုး": "Soe", "သိန်း": "Thein", "နိုင်": "Naing", "မောင်": "Maung",
    "ငြိမ်း": "Nyein", "ခင်": "Khin", "လှ": "Hla", "မြ": "Mya", "သန့်": "Thant", "ဦး": "U", "ဒေါ်": "Daw",
    "ကို": "Ko", "စု": "Su", "ကြည်": "Kyi", "ဆန်း": "San", "သန်း": "Than", "ထွေး": "Htwe", "မော်": "Maw",
    "နွယ်": "Nwe", "ဖြိုး": "Phyo", "ပိုင်": "Paing", "သူ": "Thu", "ရဲ": "Ye", "ဟိန်း": "Hein", "တင်": "Tin",
    "ထက်": "Htet", "ညီ": "Nyi", "ဇင်": "Zin", "မိုး": "Moe", "သက်": "Thet", "ချစ်": "Chit", "ဝေ": "Wai",
    "မာ": "Mar", "ခိုင်": "Khaing", "ကောင်း": "Kaung", "စန်း": "San", "ပြည့်": "Pyae", "ဖြူ": "Phyu",
    "လင်း": "Lin", "နေ": "Nay", "တိုး": "Toe", "အေး": "Aye", "သော်": "Thaw", "ဝါ": "Wa", "သီ": "Thi",
    "ရီ": "Yi", "ဒါ": "Dar", "နန်း": "Nan", "ဟန်": "Han", "ထား": "Htar", "ဇာ": "Zar", "ကြိုင်": "Kyaing",
    "ရွှေ": "Shwe", "ဘ": "Ba", "ဘို": "Bo", "ဗိုလ်": "Bo", "တူး": "Tu", "စော": "Saw", "နော်": "Naw",
    "ခွန်": "Khun", "ယု": "Yu", "ဝဏ္ဏ": "Wunna", "နန္ဒ": "Nanda", "ဇေယျ": "Zeya", "သီဟ": "Thiha",
    "လွင်": "Lwin", "ဆွေ": "Swe", "ငွေ": "Ngwe", "မြတ်": "Myat", "ကောင်": "Kaung", "ထိုက်": "Htike",
    "ဖုန်း": "Phone", "ပြုံး": "Pyone", "သွင်": "Thwin", "တန်": "Tan", "ဦ": "U", "နု": "Nu", "ကြူ": "Kyu",
    "ညွန့်": "Nyunt", "မျိုး": "Myo", "ရန်": "Yan", "ဆက်": "Set", "ထင်": "Htin", "ကျင်": "Kyin",
    "ပို": "Po", "လေး": "Lay", "ချို": "Cho", "စံ": "San", "ယဉ်": "Yin", "ဂျ": "Gya",
    "ဇော": "Zaw", "မော": "Maw", "သော": "Thaw", "ကျော": "Kyaw",  # the open-syllable spellings of the same names
}
_BURMESE_KEYS = sorted(BURMESE, key=len, reverse=True)
_SCRIPTS = ("HAN", "THAI", "KHMER", "MYANMAR", "LAO", "HANGUL", "HIRAGANA", "KATAKANA")


def script_of(text: str) -> str | None:
    """The first non-Latin script among the letters of a text (HAN, THAI, KHMER, MYANMAR, LAO, ...), else None."""
    for ch in text:
        if ch.isalpha() and ord(ch) > 0x24F:
            name = unicodedata.name(ch, "")
            for s in _SCRIPTS:
                if s in name or (s == "HAN" and "CJK" in name):
                    return s
            return "OTHER"
    return None


def latin_legal_forms(name: str) -> str:
    """'Cong ty TNHH Sao Viet' -> 'company limited sao viet', 'Jinxing Maoyi Youxian Gongsi' -> 'jinxing maoyi
    company limited'; a name without such a form comes back as it was."""
    folded = unicodedata.normalize("NFKD", name.replace("Đ", "D").replace("đ", "d"))
    folded = re.sub(r"\s+", " ", "".join(c for c in folded if not unicodedata.combining(c)).lower())
    out = folded
    for pattern, english in LEGAL_LATIN:
        out = pattern.sub(english, out)
    return name if out == folded else out


def strip_noise(name: str) -> str:
    for word in SCRIPT_NOISE:
        name = name.replace(word, " ")
    return re.sub(r"\s+", " ", name).strip()


def strip_honorifics(name: str) -> str:
    """Drop the region's honorifics from the front of a Latin name (U Kyaw Win -> Kyaw Win)."""
    low = name.lower()
    for p in _LATIN_PREFIXES:
        if low.startswith(p):
            name, low = name[len(p):], low[len(p):]
    words = name.split()
    while len(words) > 2 and words[0].lower().rstrip(".") in HONORIFICS:
        words = words[1:]
    return " ".join(words)


@lru_cache(maxsize=200_000)
def latin_variants(name: str, kind: str = "person") -> tuple[str, ...]:
    """Latin spellings of a name written in a non-Latin script (none for a Latin name: rigour handles those)."""
    script = script_of(name)
    if script is None:
        return ()
    core = strip_noise(name)
    out: list[str] = []
    if script == "HAN":
        out += _chinese(core, kind)
    elif script == "THAI":
        from pythainlp.transliterate import romanize

        out.append(" ".join(romanize(w, engine="royin") for w in core.split()))
    elif script == "MYANMAR":
        out.append(_burmese(core))
    from anyascii import anyascii

    out.append(anyascii(core))
    seen: list[str] = []
    for v in out:
        v = re.sub(r"\s+", " ", v).strip()
        if v and v not in seen:
            seen.append(v)
    return tuple(seen)


def _chinese(name: str, kind: str) -> list[str]:
    from pypinyin import Style, lazy_pinyin

    chars = [c for c in name if not c.isspace()]
    out = []
    for style in (Style.NORMAL, Style.WADEGILES):
        syl = [s.replace("'", "").replace("ü", "u").replace("v", "u") if style == Style.NORMAL else s.replace("'", "").replace("ü", "u")
               for s in lazy_pinyin(chars, style=style, errors="ignore")]
        if not syl:
            continue
        if kind == "person" and 2 <= len(syl) <= 4:
            out.append(f"{syl[0]} {''.join(syl[1:])}")  # family name, then the given name in one word
        out.append(" ".join(syl))
    return out


def _burmese(name: str) -> str:
    from anyascii import anyascii

    words: list[str] = []
    i = 0
    unknown = ""
    while i < len(name):
        if name[i].isspace():
            i += 1
            continue
        for key in _BURMESE_KEYS:
            if name.startswith(key, i) and not _continues(name, i + len(key)):
                if unknown:
                    words.append(anyascii(unknown))
                    unknown = ""
                words.append(BURMESE[key])
                i += len(key)
                break
        else:
            unknown += name[i]
            i += 1
    if unknown:
        words.append(anyascii(unknown))
    return " ".join(words)


def _continues(text: str, i: int) -> bool:
    """True when position i carries a mark that belongs to the previous syllable (asat, tone, medial, vowel sign)."""
    return i < len(text) and unicodedata.category(text[i]) in ("Mn", "Mc")
