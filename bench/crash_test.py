"""Crash-safety campaign, longer than CI's: SIGKILL ingest / detect / export at random points and re-run.

    python bench/crash_test.py --kills 200 [--seed N]

Thin wrapper around tests/reliability/crashkit.py (the CI test is tests/reliability/test_crash.py, 21 kills).
Exit code 0 when every re-run matched the uninterrupted run; the JSON summary lists any mismatch.
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

if __name__ == "__main__":
    sys.argv[0] = "crashkit.py"
    runpy.run_path(str(Path(__file__).resolve().parents[1] / "tests" / "reliability" / "crashkit.py"), run_name="__main__")
