"""Speed and memory of screening: N parties against a watch list of M entities, in a fresh DuckDB store.

    python bench/screening_speed.py [--parties 1000000] [--entities 500000] [--seed 1] [--keep DIR]

The names are generated: parties as a Southeast Asian bank's KYC holds them (Chinese, Vietnamese, Thai, Burmese,
Khmer, Filipino, Malay names in Latin letters, a tenth in Chinese or Thai script), the list as a consolidated
sanctions list does (a tenth Southeast Asian persons, a twentieth companies of the region, the rest other names,
0-3 aliases each, a fifth of the persons with a birth date). PLANTED parties carry a listed entity's name in another spelling (order swapped, family name in
capitals, honorific added, one letter changed, or the original script) and the same birth date: the run reports
how many of them are found, besides the time of each step (ingest, screening: subjects, keys, candidates,
scores, write) and the peak memory. Figures go to stdout; record them in BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PLANTED = 2_000
SYL = ("an", "bao", "chen", "cheng", "da", "de", "dong", "fang", "fei", "feng", "gang", "guo", "hai", "hao", "hong",
       "hua", "hui", "jia", "jian", "jie", "jin", "jun", "kai", "lan", "lei", "li", "liang", "lin", "ling", "long", "mei",
       "min", "ming", "na", "ning", "peng", "ping", "qi", "qiang", "qing", "rong", "shan", "sheng", "shu", "tao", "ting",
       "wei", "wen", "xia", "xin", "xing", "xiu", "yan", "yang", "yi", "ying", "yong", "yu", "yuan", "yun", "ze", "zhen",
       "zheng", "zhi", "zhong", "zhu")
CN_FAMILY = ("wang", "li", "zhang", "liu", "chen", "yang", "huang", "zhao", "wu", "zhou", "xu", "sun", "ma", "zhu", "hu",
             "guo", "he", "lin", "luo", "gao", "zheng", "liang", "xie", "song", "tang", "han", "feng", "deng", "cao", "peng",
             "zeng", "xiao", "tian", "dong", "pan", "yuan", "cai", "jiang", "yu", "du", "ye", "cheng", "wei", "su", "lu",
             "ding", "ren", "shen", "yao", "lu", "jiang", "cui", "zhong", "tan", "lu", "fan", "wang", "liao", "shi", "jin")
VN_FAMILY = ("Nguyen", "Tran", "Le", "Pham", "Hoang", "Huynh", "Phan", "Vu", "Vo", "Dang", "Bui", "Do", "Ho", "Ngo", "Duong", "Ly")
VN_MIDDLE = ("Van", "Thi", "Duc", "Minh", "Quoc", "Thanh", "Ngoc", "Huu", "Dinh", "Xuan", "Hoang", "Anh")
VN_GIVEN = ("An", "Anh", "Bao", "Binh", "Chau", "Chi", "Cuong", "Dung", "Duy", "Giang", "Ha", "Hai", "Hanh", "Hieu",
            "Hoa", "Hung", "Huong", "Khanh", "Lan", "Linh", "Long", "Mai", "Nam", "Nga", "Nhung", "Phong", "Phuong",
            "Quan", "Quang", "Son", "Tam", "Thao", "Thu", "Thuy", "Tien", "Trang", "Trung", "Tuan", "Tung", "Viet", "Yen")
TH_SYL = ("som", "chai", "sak", "wi", "prasert", "sun", "thorn", "na", "pa", "ma", "lee", "su", "da", "a", "run",
          "kan", "cha", "thana", "korn", "piya", "wan", "siri", "porn", "anan", "jai", "dee", "sri", "suk", "wong",
          "thong", "boon", "kaew", "sai", "phet", "rat", "man", "kong", "chan", "ocha", "nop", "pha", "rit", "yut")
MY_SYL = ("Aung", "Kyaw", "Maung", "Than", "Khin", "Myint", "Nwe", "Zaw", "Win", "Tun", "Soe", "Hlaing", "Min", "Oo",
          "Thein", "Naing", "Nyein", "Hla", "Mya", "Thant", "Htet", "Zin", "Moe", "Thet", "Phyo", "Paing", "Thu", "Ye",
          "Hein", "Tin", "Lwin", "Swe", "Myat", "Kaung", "Pyae", "Lin", "Nay", "Toe", "Aye", "Thaw", "Wai", "Khaing")
KH_FAMILY = ("Sok", "Chan", "Heng", "Ly", "Chea", "Kim", "Mao", "Hun", "Keo", "Meas", "Pen", "Ouk", "Tep", "Bun", "Chhim")
KH_GIVEN = ("Vanna", "Dara", "Sophea", "Sophal", "Chantha", "Sovann", "Vichet", "Sopheap", "Piseth", "Bora", "Theary",
            "Rithy", "Sambath", "Narin", "Chamroeun", "Srey", "Pisey", "Rotha", "Kosal", "Vuthy", "Sothea", "Makara")
PH_FIRST = ("Juan", "Maria", "Jose", "Ana", "Mark", "Kristine", "Paolo", "Liza", "Ramon", "Grace", "Angelo", "Rica",
            "Jericho", "Mylene", "Rodel", "Joy", "Carlo", "Bea", "Miguel", "Camille")
PH_LAST = ("Santos", "Reyes", "Cruz", "Bautista", "Garcia", "Mendoza", "Villanueva", "Dela Cruz", "Ramos", "Aquino",
           "Castillo", "Flores", "Navarro", "Torres", "Gonzales", "Domingo", "Salazar", "Aguilar", "Pascual")
MY_FIRST = ("Ahmad", "Nur", "Siti", "Muhammad", "Farah", "Hafiz", "Aisyah", "Rajesh", "Azlan", "Zulkifli", "Nurul", "Amir")
MY_LAST = ("bin Ismail", "binti Hassan", "Abdullah", "Kumar", "Osman", "bin Yusof", "binti Ahmad", "Rahman", "Ibrahim")
OTHER = ("al", "ab", "dul", "rah", "man", "ov", "ich", "sky", "ev", "ova", "mo", "ham", "med", "ser", "gei", "ivan", "pet",
         "ro", "vla", "di", "mir", "hos", "sein", "ka", "rim", "za", "deh", "ali", "reza", "nik", "olai", "bor", "is")
COMPANY = ("Golden", "Royal", "Lucky", "Jade", "Phoenix", "Dragon", "Star", "Silver", "Mekong", "Angkor", "Harbour",
           "Pacific", "Asia", "Global", "Prime", "Unity", "Fortune", "Oriental", "Summit", "Bright")
ACTIVITY = ("Trading", "Investment", "Technology", "Logistics", "Entertainment", "Resort", "Payment", "Real Estate",
            "Exchange", "Holdings", "Capital", "Digital", "Construction", "Import Export")
SUFFIX = ("Co., Ltd.", "Company Limited", "Pte Ltd", "Sdn Bhd", "Group", "Limited", "Inc.", "Corp.")
ZH_CHARS = {"wang": "王", "li": "李", "zhang": "张", "liu": "刘", "chen": "陈", "yang": "杨", "huang": "黄", "zhao": "赵",
            "wu": "吴", "zhou": "周", "wei": "伟", "ming": "明", "hua": "华", "jun": "军", "yong": "勇", "jie": "杰",
            "li2": "丽", "hong": "红", "lin": "林", "xin": "新", "hai": "海", "jian": "建", "guo": "国", "ping": "平"}


def person(rng: random.Random) -> tuple[str, str]:
    """(name, culture) of a generated person."""
    c = rng.random()
    if c < 0.30:
        given = "".join(rng.choice(SYL) for _ in range(rng.choice((1, 2, 2))))
        return f"{rng.choice(CN_FAMILY).title()} {given.title()}", "zh"
    if c < 0.50:
        return f"{rng.choice(VN_FAMILY)} {rng.choice(VN_MIDDLE)} {rng.choice(VN_GIVEN)}", "vi"
    if c < 0.62:
        g = "".join(rng.choice(TH_SYL) for _ in range(rng.randint(2, 3)))
        f = "".join(rng.choice(TH_SYL) for _ in range(rng.randint(2, 4)))
        return f"{g.title()} {f.title()}", "th"
    if c < 0.72:
        return " ".join(rng.choice(MY_SYL) for _ in range(rng.randint(2, 4))), "my"
    if c < 0.80:
        return f"{rng.choice(KH_FAMILY)} {rng.choice(KH_GIVEN)}", "km"
    if c < 0.90:
        return f"{rng.choice(PH_FIRST)} {rng.choice(PH_LAST)}", "ph"
    return f"{rng.choice(MY_FIRST)} {rng.choice(MY_LAST)}", "ms"


def other(rng: random.Random) -> str:
    def word() -> str:
        return "".join(rng.choice(OTHER) for _ in range(rng.randint(2, 3))).title()
    return " ".join(word() for _ in range(rng.randint(2, 3)))


def company(rng: random.Random) -> str:
    return f"{rng.choice(COMPANY)} {rng.choice(COMPANY + ('Sun', 'Moon', 'River'))} {rng.choice(ACTIVITY)} {rng.choice(SUFFIX)}"


def respell(name: str, culture: str, rng: random.Random) -> str:
    """Another spelling of a listed name, the way KYC might hold it."""
    parts = name.split()
    how = rng.random()
    if culture == "zh" and how < 0.15:
        chars = [ZH_CHARS.get(p.lower()) for p in parts]
        if all(chars):
            return "".join(c for c in chars if c)
    if how < 0.35 and len(parts) > 1:
        return " ".join(parts[1:] + parts[:1])
    if how < 0.55:
        return " ".join([parts[0].upper()] + parts[1:])
    if how < 0.7:
        return "Mr " + name
    if how < 0.85 and len(parts[-1]) > 4:
        i = rng.randrange(1, len(parts[-1]) - 1)
        parts[-1] = parts[-1][:i] + parts[-1][i + 1] + parts[-1][i] + parts[-1][i + 2:]
        return " ".join(parts)
    return name


def write_world(out: Path, n_parties: int, n_entities: int, seed: int) -> dict:
    rng = random.Random(seed)
    listed: list[tuple[str, str, str | None, str]] = []
    with open(out / "watchlist.ftm.json", "w", encoding="utf-8") as fh:
        for i in range(n_entities):
            r = rng.random()
            if r < 0.1:
                name, culture = person(rng)
            elif r < 0.15:
                name, culture = company(rng), "co"
            elif r < 0.9:
                name, culture = other(rng), "xx"
            else:
                name, culture = company(rng).replace(rng.choice(COMPANY), other(rng).split()[0]), "co"
            schema = "Company" if culture == "co" else "Person"
            born = f"{rng.randint(1950, 2000)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}" if schema == "Person" and rng.random() < 0.2 else None
            aliases = [respell(name, culture, rng) for _ in range(rng.randint(0, 3))] if culture != "co" else []
            props = {"name": [name], "alias": [a for a in aliases if a != name]}
            if born:
                props["birthDate"] = [born]
            fh.write(json.dumps({"id": f"e{i}", "schema": schema, "properties": props, "datasets": ["bench"],
                                 "last_change": "2026-12-01T00:00:00"}) + "\n")
            if culture in ("zh", "vi", "th", "my", "km", "ph", "ms") and born:
                listed.append((f"e{i}", name, born, culture))
    planted = rng.sample(listed, min(PLANTED, len(listed)))
    with open(out / "parties.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["party_id", "party_type", "name", "birth_date", "nationality", "id_number", "registration_no",
                     "phone", "email", "address", "country"])
        for i in range(n_parties):
            if i < len(planted):
                eid, name, born, culture = planted[i]
                w.writerow([f"P{i}", "person", respell(name, culture, rng), born, "", "", "", "", "", "", ""])
            elif rng.random() < 0.08:
                w.writerow([f"P{i}", "legal", company(rng), "", "", "", f"R{i}", "", "", "", ""])
            else:
                name, _ = person(rng)
                born = f"{rng.randint(1950, 2005)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
                w.writerow([f"P{i}", "person", name, born, "", "", "", "", "", "", ""])
    return {"planted": {f"P{i}": f"bench:{p[0]}" for i, p in enumerate(planted)}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--parties", type=int, default=1_000_000)
    ap.add_argument("--entities", type=int, default=500_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep", type=Path, default=None, help="write the world and the store here (else a temp dir)")
    args = ap.parse_args()
    from rules.screening import screen as S
    from transforms import store
    from transforms.ingest import ingest_paths

    work = args.keep or Path(tempfile.mkdtemp(prefix="screening-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    truth = write_world(work, args.parties, args.entities, args.seed)
    print(f"world: {args.parties:,} parties, {args.entities:,} listed entities, {len(truth['planted']):,} planted "
          f"({time.perf_counter() - t:.1f} s to write)")
    db = work / "s.duckdb"
    db.unlink(missing_ok=True)
    t = time.perf_counter()
    reports = ingest_paths(db, [work / "watchlist.ftm.json", work / "parties.csv"])
    print(f"ingest: {time.perf_counter() - t:.1f} s ({', '.join(f'{Path(r.path).name} {r.rows_loaded:,}' for r in reports)})")
    con = store.connect(db)
    try:
        t = time.perf_counter()
        summary = S.screen(con, "bench")
        wall = time.perf_counter() - t
        found = {tuple(r) for r in con.execute("SELECT subject_id, entity_id FROM watchlist_matches").fetchall()}
    finally:
        con.close()
    hit = sum(1 for p, e in truth["planted"].items() if (p, e) in found)
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024
    print(f"screening: {wall:.1f} s wall, peak RSS {peak_gb:.2f} GB; steps: {summary.get('timings')}")
    print(f"  subjects {summary.get('subjects'):,}, candidate pairs {summary.get('pairs'):,}, matches {summary.get('matches'):,}")
    print(f"  planted found: {hit:,} of {len(truth['planted']):,} ({hit / max(1, len(truth['planted'])):.3f})")


if __name__ == "__main__":
    main()
