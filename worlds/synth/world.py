"""The actors of the synthetic world: banks and their export layouts, compounds, people, companies, VASPs, FX.

All names, numbers, addresses and places are invented. IP ranges are documentation (RFC 5737) or carrier-grade
NAT (RFC 6598) space. Bank codes look like BICs but belong to no real bank.
"""

from __future__ import annotations

import hashlib
import random
from decimal import Decimal
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

import numpy as np

from worlds.synth.model import MICRO, Party

# --------------------------------------------------------------------------------------------------- banks


@dataclass(frozen=True)
class BankSpec:
    code: str  # institution code as the mapping's constants.institution
    key: str  # file stem and mapping name
    name: str
    country: str
    currencies: tuple[str, ...]
    tz_name: str
    tz_offset: int  # seconds east of UTC (the region has no DST)
    encoding: str
    delimiter: str
    decimal: str
    thousands: str
    date_fmt: str  # strftime for writing booked_at (or the date part when split_time)
    time_fmt: str = ""  # strftime of a separate time column
    amount_style: str = "signed"  # signed | debit_credit | direction
    columns: dict = field(default_factory=dict)  # canonical field -> header name
    channel_codes: dict = field(default_factory=dict)  # canonical channel -> code in the extract
    direction_codes: tuple[str, str] = ("DR", "CR")
    number_format: str = "##########"  # '#' = digit
    native_prefix: str = ""
    script: str = "latin"  # name script of the bank's own customers
    ext: str = "csv"
    e2e: bool = False  # exports end-to-end ids (both sides of a transfer between such banks are exported)
    uetr: bool = False
    whole_units: tuple[str, ...] = ()  # currencies written without decimals

    @property
    def date_only(self) -> bool:
        return "%H" not in self.date_fmt and not self.time_fmt

    def polars_formats(self) -> list[str]:
        fmt = self.date_fmt + (" " + self.time_fmt if self.time_fmt else "")
        return [fmt]


def _cols(**kw) -> dict:
    return kw


BANKS: tuple[BankSpec, ...] = (
    BankSpec(
        code="ANDATHBK", key="andaman_th", name="Andaman Commercial Bank", country="TH", currencies=("THB",),
        tz_name="Asia/Bangkok", tz_offset=7 * 3600, encoding="cp874", delimiter=",", decimal=".", thousands=",",
        date_fmt="%d/%m/%Y", time_fmt="%H:%M:%S", amount_style="debit_credit",
        columns=_cols(txn_id="Txn Ref", booked_at="Txn Date", booked_time="Txn Time", account="Account No",
                      account_name="Account Name", debit="Withdrawal", credit="Deposit",
                      counterparty_account="Counterparty Acct", counterparty_institution="Counterparty Bank",
                      counterparty_name="Counterparty Name", channel="Channel", reference="Description"),
        channel_codes={"transfer": "TRF", "cash_deposit": "CDM", "cash_withdrawal": "ATM", "card": "POS",
                       "wire": "SWIFT", "ewallet": "PPAY"},
        number_format="###-#-#####-#", native_prefix="AN", script="thai",
    ),
    BankSpec(
        code="MEKGKHPP", key="mekong_kh", name="Mekong Pioneer Bank", country="KH", currencies=("USD", "KHR"),
        tz_name="Asia/Phnom_Penh", tz_offset=7 * 3600, encoding="utf-8-sig", delimiter=";", decimal=",", thousands=".",
        date_fmt="%d.%m.%Y %H:%M", amount_style="signed",
        columns=_cols(txn_id="Ref", booked_at="Date", account="Account", account_name="Holder",
                      amount="Amount", currency="Ccy", counterparty_account="Beneficiary/Remitter Account",
                      counterparty_institution="Bank Code", counterparty_name="Beneficiary/Remitter",
                      channel="Type", reference="Narrative"),
        channel_codes={"transfer": "Transfer", "cash_deposit": "Cash Deposit", "cash_withdrawal": "Cash Withdrawal",
                       "ewallet": "Wallet", "wire": "Wire", "card": "Card"},
        number_format="### ### ###", native_prefix="MK", script="khmer", whole_units=("KHR",),
    ),
    BankSpec(
        code="LUZNPHMM", key="luzon_ph", name="Luzon Savings and Trust", country="PH", currencies=("PHP",),
        tz_name="Asia/Manila", tz_offset=8 * 3600, encoding="utf-16", delimiter="\t", decimal=".", thousands=",",
        date_fmt="%m/%d/%Y %H:%M:%S", amount_style="direction", ext="txt",
        columns=_cols(txn_id="TRANSACTION_ID", booked_at="POSTING_DATE", account="ACCOUNT_NUMBER",
                      account_name="ACCOUNT_NAME", amount="AMOUNT", direction="DR_CR",
                      counterparty_account="OTHER_ACCOUNT", counterparty_institution="OTHER_BANK",
                      counterparty_name="OTHER_NAME", channel="TXN_TYPE", reference="REMARKS"),
        channel_codes={"transfer": "IBFT", "cash_deposit": "CASHIN", "cash_withdrawal": "CASHOUT", "ewallet": "EWLT",
                       "wire": "SWIFT", "card": "POS"},
        number_format="####-####-##", native_prefix="LZ", script="filipino",
    ),
    BankSpec(
        code="SELAMYKL", key="selat_my", name="Selat Bank Berhad", country="MY", currencies=("MYR",),
        tz_name="Asia/Kuala_Lumpur", tz_offset=8 * 3600, encoding="utf-8", delimiter=",", decimal=".", thousands="",
        date_fmt="%Y-%m-%d", amount_style="signed",
        columns=_cols(txn_id="TranID", booked_at="TranDate", account="AcctNo", account_name="AcctName",
                      amount="Amount", counterparty_account="CptyAcctNo", counterparty_institution="CptyBIC",
                      counterparty_name="CptyName", counterparty_country="CptyCountry", channel="Channel",
                      reference="PaymentDetails", end_to_end_id="EndToEndId", uetr="UETR"),
        channel_codes={"transfer": "DUITNOW", "cash_deposit": "CDM", "cash_withdrawal": "ATM", "wire": "TT",
                       "card": "DEBITCARD", "ewallet": "EWALLET"},
        number_format="############", native_prefix="SL", script="malay", e2e=True, uetr=True,
    ),
    BankSpec(
        code="IRWDMMMY", key="irrawaddy_mm", name="Irrawaddy Trust Bank", country="MM", currencies=("MMK",),
        tz_name="Asia/Yangon", tz_offset=6 * 3600 + 1800, encoding="utf-8", delimiter=";", decimal=".", thousands=",",
        date_fmt="%Y/%m/%d %H:%M:%S", amount_style="debit_credit",
        columns=_cols(txn_id="VoucherNo", booked_at="TransDateTime", account="AccountNo", account_name="CustomerName",
                      debit="DebitAmt", credit="CreditAmt", counterparty_account="ToFromAccount",
                      counterparty_institution="ToFromBank", counterparty_name="ToFromName", channel="TxnCode",
                      reference="Particulars"),
        channel_codes={"transfer": "TR", "cash_deposit": "CD", "cash_withdrawal": "CW", "ewallet": "MB", "wire": "TT",
                       "card": "CARD"},
        number_format="###-###-########", native_prefix="IR", script="burmese", whole_units=("MMK",),
    ),
    BankSpec(
        code="LNGTSGSG", key="liongate_sg", name="Lion Gate Bank", country="SG", currencies=("SGD",),
        tz_name="Asia/Singapore", tz_offset=8 * 3600, encoding="utf-8", delimiter=",", decimal=".", thousands="",
        date_fmt="%Y-%m-%dT%H:%M:%S", amount_style="signed",
        columns=_cols(txn_id="transaction_reference", booked_at="booking_datetime", value_date="value_date",
                      account="account_number", account_name="account_holder", amount="amount", currency="currency",
                      counterparty_account="counterparty_account", counterparty_institution="counterparty_bic",
                      counterparty_name="counterparty_name", counterparty_country="counterparty_country",
                      channel="payment_type", reference="remittance_info", end_to_end_id="end_to_end_id",
                      uetr="uetr"),
        channel_codes={"transfer": "FAST", "cash_deposit": "CASH_DEP", "cash_withdrawal": "CASH_WDL", "wire": "SWIFT",
                       "card": "NETS", "ewallet": "PAYNOW"},
        number_format="###-######-#", native_prefix="LG", script="singapore", e2e=True, uetr=True,
    ),
    BankSpec(
        code="GTCBLALA", key="gtcb_la", name="Golden Triangle Commercial Bank", country="LA", currencies=("CNY", "LAK"),
        tz_name="Asia/Vientiane", tz_offset=7 * 3600, encoding="gb18030", delimiter="\t", decimal=".", thousands="",
        date_fmt="%Y-%m-%d", amount_style="direction",
        columns=_cols(txn_id="交易流水号", booked_at="交易日期", account="账号", account_name="户名", amount="金额",
                      direction="借贷标志", currency="币种", counterparty_account="对方账号",
                      counterparty_institution="对方行号", counterparty_name="对方户名", channel="交易类型",
                      reference="摘要"),
        channel_codes={"transfer": "转账", "cash_deposit": "现金存入", "cash_withdrawal": "现金支取", "wire": "汇款",
                       "ewallet": "钱包", "card": "刷卡"},
        direction_codes=("借", "贷"),
        number_format="################", native_prefix="GT", script="chinese", whole_units=("LAK",),
    ),
)
BANK_BY_COUNTRY = {b.country: b for b in BANKS}
# share of the customer population held by each bank
BANK_WEIGHTS = {"TH": 0.28, "MY": 0.15, "SG": 0.12, "PH": 0.16, "KH": 0.12, "MM": 0.11, "LA": 0.06}

# Banks outside the world (counterparties only: their extracts are not part of the world)
EXTERNAL_BANKS = {"HK": ("KWLNHKHH", "HKD"), "CN": ("YNBGCNBJ", "CNY"), "AE": ("DSRTAEAD", "AED"), "VN": ("MKDLVNVX", "VND")}

# --------------------------------------------------------------------------------------------------- compounds


@dataclass(frozen=True)
class Compound:
    compound_id: str
    name: str
    aliases: tuple[str, ...]
    country: str
    lat: float
    lon: float
    radius_km: float
    cidr_base: str  # first three octets
    cidr_lo: int
    cidr_hi: int
    phone_prefixes: tuple[str, ...]
    confidence: float
    source: str

    @property
    def cidr(self) -> str:
        size = self.cidr_hi - self.cidr_lo + 1
        bits = 32 - (size.bit_length() - 1)
        return f"{self.cidr_base}.{self.cidr_lo}/{bits}"

    def ip(self, rng: random.Random) -> str:
        return f"{self.cidr_base}.{rng.randint(max(self.cidr_lo, 1), min(self.cidr_hi, 254))}"

    def point(self, rng: random.Random) -> tuple[float, float]:
        d = self.radius_km / 111.0 * 0.7
        return round(self.lat + rng.uniform(-d, d), 5), round(self.lon + rng.uniform(-d, d), 5)


COMPOUNDS: tuple[Compound, ...] = (
    Compound("kk_park", "KK Park", ("KK Garden", "Myawaddy KK"), "MM", 16.6152, 98.5261, 3.0, "203.0.113", 0, 127,
             ("+9597712", "+9597713"), 0.85, "synthetic: modelled on UNODC 2024 descriptions of Myawaddy compounds"),
    Compound("shwe_kokko", "Shwe Kokko", ("Yatai New City",), "MM", 16.8468, 98.5163, 4.0, "203.0.113", 128, 255,
             ("+9597814",), 0.8, "synthetic: modelled on public reporting on Shwe Kokko"),
    Compound("sihanoukville", "Golden Fortune Science Park", ("Sihanoukville compound", "GFSP"), "KH", 10.6093,
             103.5296, 2.0, "198.51.100", 0, 127, ("+85597880", "+8556988"), 0.75,
             "synthetic: modelled on UNODC 2023 reporting on Sihanoukville"),
    Compound("golden_triangle", "Golden Triangle SEZ", ("GTSEZ", "Kings Romans zone"), "LA", 20.3541, 100.0862, 5.0,
             "198.51.100", 128, 255, ("+8562055",), 0.7, "synthetic: modelled on public reporting on the Bokeo SEZ"),
    Compound("pogo_hub", "Bamban former POGO hub", ("Zun Yuan Technology park",), "PH", 15.2710, 120.5652, 1.5,
             "192.0.2", 0, 255, ("+639178",), 0.75, "synthetic: modelled on 2024 Philippine Senate hearings"),
)

# --------------------------------------------------------------------------------------------------- OFAC
# A few addresses copied from the OFAC SDN list (via ../shared/reference/ofac_crypto; MIT-licensed extract of the
# public list) so that users of the generator need not have the reference folder. Funnull Technology was designated
# in 2025 for providing infrastructure to pig-butchering sites; Grinex for sanctions evasion.
OFAC_ADDRESSES = (
    ("tron", "TNmRfnSUXZoWWzxcDDbf95eGQYXt1mJDt8", "Funnull Technology Inc"),
    ("tron", "TAYhjpL8pPs8T84FSM329nffQpc6jD8GBM", "Grinex"),
    ("ethereum", "0xd5ED34b52AC4ab84d8FA8A231a3218bbF01Ed510", "Funnull Technology Inc"),
)

USDT_TRON = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"
USDT_ETH = "0xdac17f958d2ee523a2206206994597c13d831ec7"

# --------------------------------------------------------------------------------------------------- names

NAMES = {
    "thai": (
        [("สมชาย", "Somchai"), ("สมศักดิ์", "Somsak"), ("วิชัย", "Wichai"), ("ประเสริฐ", "Prasert"), ("สุนทร", "Sunthorn"),
         ("นภา", "Napa"), ("มาลี", "Malee"), ("สุดา", "Suda"), ("อรุณี", "Arunee"), ("กาญจนา", "Kanchana"),
         ("ธนากร", "Thanakorn"), ("ปิยะ", "Piya"), ("วรรณา", "Wanna"), ("ศิริพร", "Siriporn"), ("อนันต์", "Anan")],
        [("ใจดี", "Jaidee"), ("ศรีสุข", "Srisuk"), ("วงศ์ทอง", "Wongthong"), ("บุญมา", "Boonma"), ("แก้วใส", "Kaewsai"),
         ("ทองดี", "Thongdee"), ("สุขสวัสดิ์", "Suksawat"), ("เพชรรัตน์", "Phetcharat"), ("มั่นคง", "Mankong")],
        " ",
    ),
    "burmese": (
        [("အောင်", "Aung"), ("ကျော်", "Kyaw"), ("မောင်", "Maung"), ("သန်း", "Than"), ("ခင်", "Khin"), ("မြင့်", "Myint"),
         ("နွယ်", "Nwe"), ("ဇော်", "Zaw")],
        [("ဝင်း", "Win"), ("ထွန်း", "Tun"), ("စိုး", "Soe"), ("လှိုင်", "Hlaing"), ("မင်း", "Min"), ("ဦး", "Oo")],
        " ",
    ),
    "khmer": (
        [("សុខ", "Sok"), ("ចាន់", "Chan"), ("ស្រី", "Srey"), ("វណ្ណៈ", "Vanna"), ("ដារ៉ា", "Dara"), ("សុភា", "Sophea")],
        [("ហេង", "Heng"), ("លី", "Ly"), ("ជា", "Chea"), ("គឹម", "Kim"), ("ម៉ៅ", "Mao")],
        " ",
    ),
    "filipino": (
        [(n, n) for n in ("Juan", "Maria", "Jose", "Ana", "Mark", "Kristine", "Paolo", "Liza", "Ramon", "Grace")],
        [(n, n) for n in ("Santos", "Reyes", "Cruz", "Bautista", "Garcia", "Mendoza", "Villanueva", "Dela Cruz")],
        " ",
    ),
    "malay": (
        [(n, n) for n in ("Ahmad", "Nur", "Siti", "Muhammad", "Farah", "Hafiz", "Aisyah", "Lim", "Tan", "Rajesh")],
        [(n, n) for n in ("bin Ismail", "binti Hassan", "Abdullah", "Wei Ming", "Mei Ling", "Kumar", "Osman")],
        " ",
    ),
    "singapore": (
        [(n, n) for n in ("Tan", "Lim", "Lee", "Ng", "Ong", "Wong", "Goh", "Chua")],
        [(n, n) for n in ("Wei Jie", "Hui Min", "Jun Hao", "Xin Yi", "Siew Ling", "Kok Wai", "Mei Hua")],
        " ",
    ),
    "chinese": (
        [("王", "Wang"), ("李", "Li"), ("张", "Zhang"), ("刘", "Liu"), ("陈", "Chen"), ("赵", "Zhao"), ("黄", "Huang"),
         ("周", "Zhou")],
        [("伟", "Wei"), ("芳", "Fang"), ("娜", "Na"), ("敏", "Min"), ("静", "Jing"), ("强", "Qiang"), ("磊", "Lei"),
         ("军", "Jun"), ("洋", "Yang"), ("勇", "Yong"), ("志明", "Zhiming"), ("海涛", "Haitao")],
        "",
    ),
    "lao": (
        [(n, n) for n in ("Somphone", "Khamla", "Bounmy", "Vilay", "Souk")],
        [(n, n) for n in ("Phommachanh", "Sisouk", "Vongsa", "Keomany")],
        " ",
    ),
}
COUNTRY_SCRIPT = {"TH": "thai", "MM": "burmese", "KH": "khmer", "PH": "filipino", "MY": "malay", "SG": "singapore",
                  "LA": "lao", "CN": "chinese"}
PHONE = {"TH": ("+66", ("8", "9", "6"), 8), "MM": ("+95", ("9",), 9), "KH": ("+855", ("1", "9", "7"), 8),
         "PH": ("+63", ("9",), 9), "MY": ("+60", ("1",), 9), "SG": ("+65", ("8", "9"), 7), "LA": ("+856", ("20",), 8),
         "CN": ("+86", ("13", "15"), 9)}
CITIES = {
    "TH": [("Bangkok", 13.7563, 100.5018), ("Chiang Mai", 18.7883, 98.9853), ("Mae Sot", 16.7130, 98.5746),
           ("Khon Kaen", 16.4322, 102.8236)],
    "MM": [("Yangon", 16.8409, 96.1735), ("Mandalay", 21.9588, 96.0891), ("Myawaddy", 16.6880, 98.5084)],
    "KH": [("Phnom Penh", 11.5564, 104.9282), ("Siem Reap", 13.3671, 103.8448), ("Sihanoukville", 10.6253, 103.5234)],
    "PH": [("Manila", 14.5995, 120.9842), ("Cebu", 10.3157, 123.8854), ("Angeles", 15.1450, 120.5887)],
    "MY": [("Kuala Lumpur", 3.1390, 101.6869), ("Penang", 5.4141, 100.3288), ("Johor Bahru", 1.4927, 103.7414)],
    "SG": [("Singapore", 1.3521, 103.8198)],
    "LA": [("Vientiane", 17.9757, 102.6331), ("Luang Prabang", 19.8856, 102.1347), ("Ton Pheung", 20.3000, 100.1000)],
    "CN": [("Kunming", 25.0389, 102.7183)],
}
# Street names for KYC addresses: with the house number and the unit they make an address that few holders
# share by chance even at millions of parties (a city and a house number alone made every address of a 10M world
# shared by dozens, and the shared-contact rule fire on most customers). Shared addresses come from the plot.
STREETS = ("Market St", "Riverside Rd", "Temple Rd", "Station Rd", "Garden Ave", "Harbour Rd", "Palm St", "Lotus Ln",
           "Mango Ln", "Orchid Rd", "Canal Rd", "Hill St", "Bridge Rd", "Sunrise Ave", "Bamboo Ln", "Jade St",
           "Lake Rd", "Rice Mill Rd", "Pagoda St", "Night Market Rd", "School Ln", "Airport Rd", "Cross St", "Ferry Rd")
COUNTRY_IDX = {c: i for i, c in enumerate(("TH", "MM", "KH", "PH", "MY", "SG", "LA", "CN"))}

# --------------------------------------------------------------------------------------------------- FX

BASE_RATES = {  # USD per unit
    "USD": 1.0, "THB": 0.0285, "KHR": 0.000246, "PHP": 0.0174, "MYR": 0.2235, "MMK": 0.000476, "SGD": 0.7440,
    "CNY": 0.1380, "LAK": 0.0000463, "HKD": 0.1282, "AED": 0.2723, "VND": 0.0000393,
    "USDT": 1.0, "USDC": 1.0, "ETH": 2480.0, "TRX": 0.245,
}
VOL = {"USD": 0.0, "USDT": 0.0004, "USDC": 0.0002, "ETH": 0.03, "TRX": 0.025}


class Fx:
    """Daily USD-per-unit rates from a seeded random walk; day index 0 = first day of the world."""

    LEAD = 7  # days of rates before the world starts (transactions may look back a week)

    def __init__(self, seed: int, start: date, days: int):
        self.start = start
        self.days = days
        self.currencies = sorted(BASE_RATES)
        self.rates: dict[str, list[float]] = {}
        n = days + self.LEAD + 2
        for i, cur in enumerate(self.currencies):
            rng = np.random.default_rng([seed, 901, i])
            vol = VOL.get(cur, 0.003)
            if cur in ("USDT", "USDC"):
                walk = 1.0 + rng.normal(0, vol, n)
            else:
                walk = np.exp(np.cumsum(rng.normal(0, vol, n)))
            self.rates[cur] = [float(f"{BASE_RATES[cur] * w:.6g}") for w in walk]

    def rate(self, cur: str, day: int) -> float:
        return self.rates[cur][min(max(day + self.LEAD, 0), len(self.rates[cur]) - 1)]

    def convert(self, micro: int, src: str, dst: str, day: int, decimals: int) -> int:
        if src == dst:
            return micro
        v = micro * self.rate(src, day) / self.rate(dst, day)
        q = 10 ** (6 - decimals)
        return max(q, int(round(v / q)) * q)

    def usd_to(self, usd: float, cur: str, day: int, decimals: int) -> int:
        v = usd / self.rate(cur, day) * MICRO
        q = 10 ** (6 - decimals)
        return max(q, int(round(v / q)) * q)

    def rows(self):
        for k in range(-self.LEAD, self.days + 1):
            d = (self.start + timedelta(days=k)).isoformat()
            for cur in self.currencies:
                yield d, cur, format(Decimal(repr(self.rate(cur, k))), "f")


# --------------------------------------------------------------------------------------------------- ids

B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def tron_address(raw20: bytes) -> str:
    payload = b"\x41" + raw20
    check = hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]
    n = int.from_bytes(payload + check, "big")
    out = ""
    while n:
        n, r = divmod(n, 58)
        out = B58[r] + out
    return out


def iban(country: str, bank: str, account_digits: str) -> str:
    bban = bank + account_digits
    rearranged = bban + country + "00"
    num = int("".join(str(int(ch, 36)) for ch in rearranged))
    return f"{country}{98 - num % 97:02d}{bban}"


def fmt_number(pattern: str, digits: str) -> str:
    it = iter(digits)
    return "".join(next(it) if ch == "#" else ch for ch in pattern)


def ts_of(start: date, day: int, seconds: int) -> int:
    base = int(datetime(start.year, start.month, start.day, tzinfo=timezone.utc).timestamp())
    return base + day * 86400 + seconds


class IdMint:
    """Deterministic, collision-free identifiers: every id is derived from the seed and a counter."""

    def __init__(self, seed: int):
        self.seed = seed
        self.counters: dict[str, int] = {}
        self.used_numbers: set[str] = set()

    def next(self, kind: str) -> int:
        n = self.counters.get(kind, 0) + 1
        self.counters[kind] = n
        return n

    def digest(self, kind: str) -> bytes:
        n = self.next(kind)
        return hashlib.sha256(f"{self.seed}|{kind}|{n}".encode()).digest()

    def digits(self, kind: str, count: int) -> str:
        while True:
            h = int.from_bytes(self.digest(kind), "big")
            s = str(h)[-count:].rjust(count, "0")
            if s[0] == "0":
                s = "1" + s[1:]
            if (kind, s) not in self.used_numbers:
                self.used_numbers.add((kind, s))
                return s

    def tron(self) -> str:
        return tron_address(self.digest("tron")[:20])

    def eth(self) -> str:
        return "0x" + self.digest("eth")[:20].hex()

    def tx_hash(self, chain: str) -> str:
        h = self.digest("hash").hex()
        return ("0x" + h) if chain != "tron" else h

    def uetr(self) -> str:
        h = self.digest("uetr").hex()
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"

    def e2e(self, bank: str) -> str:
        return f"E2E{bank[:4]}{self.next('e2e'):010d}"

    def party_id(self) -> str:
        return f"KYC{self.next('party'):07d}"


# --------------------------------------------------------------------------------------------------- people


class PeopleFactory:
    def __init__(self, mint: IdMint, rng: random.Random, start: date):
        self.mint = mint
        self.rng = rng
        self.start = start

    def phone(self, country: str, prefix: str | None = None) -> str:
        cc, firsts, n = PHONE[country]
        if prefix:
            rest = 12 - len(prefix) + 1
            return prefix + "".join(str(self.rng.randint(0, 9)) for _ in range(max(rest, 5)))
        first = self.rng.choice(firsts)
        return cc + first + "".join(str(self.rng.randint(0, 9)) for _ in range(n - len(first) + 1))

    def unit(self) -> str:
        """A street and a unit, from the id mint (not the rng, so the worlds' other draws stay as they were)."""
        h = int.from_bytes(self.mint.digest("address")[:8], "big")
        return f"{STREETS[h % len(STREETS)]}, #{(h >> 8) % 30 + 1:02d}-{(h >> 16) % 40 + 1:02d}"

    def person(self, country: str, nationality: str | None = None, phone_prefix: str | None = None,
               city: str | None = None) -> Party:
        nat = nationality or country
        script = COUNTRY_SCRIPT.get(nat, "filipino")
        firsts, lasts, sep = NAMES[script]
        f, fl = self.rng.choice(firsts)
        l, ll = self.rng.choice(lasts)
        if script == "chinese":
            name, latin = f + l, f"{fl} {ll}"
        else:
            name, latin = f + sep + l, f"{fl} {ll}"
        pid = self.mint.party_id()
        born = self.start - timedelta(days=self.rng.randint(19 * 365, 70 * 365))
        c = city or self.rng.choice(CITIES.get(country, CITIES["TH"]))[0]
        return Party(
            party_id=pid, party_type="person", name=name, latin_name=latin, country=country, nationality=nat,
            birth_date=born.isoformat(), id_number=f"{nat}{self.mint.digits('idno', 9)}",
            phone=self.phone(nat if phone_prefix is None else country, phone_prefix),
            email=f"{latin.lower().replace(' ', '.')}.{pid[3:]}@mail.example",  # the whole number: unique
            address=f"{self.rng.randint(1, 999)} {self.unit()}, {c}, {country}",
        )

    def company(self, name: str, country: str, address: str | None = None, phone: str | None = None) -> Party:
        pid = self.mint.party_id()
        slug = "".join(ch for ch in name.lower() if ch.isalnum())[:16]
        return Party(
            party_id=pid, party_type="legal", name=name, latin_name=name, country=country,
            registration_no=f"{country}-{self.mint.digits('reg', 8)}",
            phone=phone or self.phone(country), email=f"info@{slug}.example",
            address=address or (f"{self.rng.randint(1, 300)} Business Rd, Unit {self.unit()[-5:]}, "
                                f"{self.rng.choice(CITIES[country])[0]}, {country}"),
        )
