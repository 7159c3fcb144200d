"""Peak RSS of this process, for the bench scripts (Linux: /proc; elsewhere the getrusage peak)."""

from __future__ import annotations

import resource
from pathlib import Path


def peak_mb() -> float:
    """Peak RSS over the process's whole life (ru_maxrss, KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_hwm() -> None:
    """Reset the kernel's high-water mark (VmHWM), so that the next hwm_mb() is the peak of one stage alone."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def hwm_mb() -> float:
    """Peak RSS since the last reset_hwm() (VmHWM)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return peak_mb()
