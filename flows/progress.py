"""Progress events from long stages to whoever shows them (the CLI's progress bar); silent by default.

Flows pass plain data between tasks, so the listener is registered here instead of being a flow parameter.
"""

from __future__ import annotations

from typing import Callable

Listener = Callable[[str, dict], None]
_listener: Listener | None = None


def set_listener(listener: Listener | None) -> None:
    global _listener
    _listener = listener


def emit(event: str, **data) -> None:
    if _listener is not None:
        _listener(event, data)
