"""Random-mutation fuzzer over every reader family, as an ingest sees files: detection first, then the reader.

    python tests/reliability/fuzz_readers.py [--seconds 120] [--seed N]

Seeds are corpus control files and the statement fixtures; each run flips, deletes, inserts and duplicates bytes
or truncates the file. Anything but an InputError (a one-line refusal), or rows without consecutive row numbers,
is a failure: the damaged file is kept in /tmp/fuzzfail_* for a corpus entry. Not collected by pytest (CI runs the
hypothesis properties of test_properties.py instead).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SEEDS = [
    (ROOT / "tests/fixtures/statements/camt053_v08_bank_a.xml", ".xml"),
    (ROOT / "tests/fixtures/statements/camt054_v04_bank_a.xml", ".xml"),
    (ROOT / "tests/fixtures/statements/mt940_day1_2.sta", ".sta"),
    (HERE / "corpus/explorers/tron_00_baseline.csv", ".csv"),
    (HERE / "corpus/explorers/erc_08_unix_time_edges.csv", ".csv"),
    (HERE / "corpus/delimited/bank_00_baseline.csv", ".csv"),
    (HERE / "corpus/own_csv/events_06_offsets_and_coordinates.csv", ".csv"),
    (HERE / "corpus/own_csv/accounts_05_bad_values.csv", ".csv"),
    (HERE / "corpus/compounds/c05_bad_entries.yml", ".yml"),
]
INSERTS = [b'"', b",", b"\n", b"\r", b":61:", b"<", b">", b"&", b"\x00", b"9" * 30, b"-", b"E+9", b".", b"\xff"]


def mutate(rnd: random.Random, data: bytes) -> bytes:
    b = bytearray(data)
    for _ in range(rnd.randint(1, 8)):
        if not b:
            break
        p, k = rnd.randrange(len(b)), rnd.randint(0, 4)
        if k == 0:
            b[p] = rnd.randrange(256)
        elif k == 1:
            del b[p: p + rnd.randint(1, 50)]
        elif k == 2:
            b[p:p] = rnd.choice(INSERTS) * rnd.randint(1, 3)
        elif k == 3:
            q = rnd.randrange(len(b))
            b[p:p] = b[q: q + rnd.randint(1, 80)]
        else:
            del b[p:]
    return bytes(b)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=120)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    import polars as pl

    from transforms.errors import InputError
    from transforms.sources.base import ReadContext
    from transforms.sources.registry import detect

    rnd = random.Random(a.seed)
    seeds = [(p.read_bytes(), suffix) for p, suffix in SEEDS]
    mapping = HERE / "corpus/delimited/bank.mapping.yml"
    t0, runs, fails = time.monotonic(), 0, 0
    while time.monotonic() - t0 < a.seconds:
        data, suffix = rnd.choice(seeds)
        damaged = mutate(rnd, data)
        with tempfile.TemporaryDirectory() as td:
            f = Path(td) / f"bank_fuzz{suffix}"  # the bank mapping claims bank_*.csv
            f.write_bytes(damaged)
            ctx = ReadContext(mapping_files=[mapping])
            runs += 1
            try:
                reader = detect(f, ctx)
                if reader is None:
                    continue
                frames = list(reader.read(f, ctx))
                if frames:
                    out = pl.concat(frames)
                    assert out["row_no"].to_list() == list(range(1, out.height + 1)), "row numbers not consecutive"
            except InputError as exc:
                assert "\n" not in str(exc), "a refusal is one line"
            except Exception as exc:  # a crash: keep the file
                fails += 1
                keep = Path(tempfile.gettempdir()) / f"fuzzfail_{fails}{suffix}"
                keep.write_bytes(damaged)
                print(f"FAIL {type(exc).__name__}: {str(exc)[:200]} -> {keep}", flush=True)
    print(f"{runs} damaged files, {fails} failures")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
