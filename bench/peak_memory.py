"""Peak RSS of this process, for the bench scripts (Linux: /proc; elsewhere the getrusage peak)."""

from __future__ import annotations

import resource
import threading
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


class ChildrenPeak(threading.Thread):
    """Largest RSS of any child process (the export's worker processes), sampled every 0.2 s while running.
    (getrusage's children figure would count the parent's pages a worker had before it exec'ed.)"""

    def __init__(self):
        super().__init__(daemon=True)
        self.peak_mb, self._done = 0.0, threading.Event()

    def run(self) -> None:
        import psutil

        me = psutil.Process()
        while not self._done.wait(0.2):
            for child in me.children(recursive=True):
                try:
                    self.peak_mb = max(self.peak_mb, child.memory_info().rss / 2**20)
                except psutil.Error:
                    pass

    def stop(self) -> float:
        self._done.set()
        self.join()
        return self.peak_mb
