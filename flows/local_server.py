"""Prefect's temporary API server, owned by the scamtrace command that needs it.

Without $PREFECT_API_URL, Prefect starts a temporary server as a child process and stops it at interpreter exit.
A command killed with SIGKILL never reaches that exit, and the server ran on for as long as nobody noticed. Here
the server is started by scamtrace instead, and it watches its parent: when the parent is gone (killed, crashed,
or finished) it exits within a second. With $PREFECT_API_URL set, runs go to that server and nothing starts.

    python -m flows.local_server PORT PARENT_PID   # what the parent runs; not meant to be started by hand
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from typing import Iterator

from transforms.errors import ScamtraceError

HOST = "127.0.0.1"
PARENT_POLL_SECONDS = 0.5


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _healthy(url: str) -> bool:
    import httpx

    try:
        return httpx.get(f"{url}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@contextmanager
def prefect_api() -> Iterator[str | None]:
    """Point Prefect at a server for the duration of the block: $PREFECT_API_URL when set, else a temporary one
    that this process starts, waits for, and stops (and that stops itself if this process dies first)."""
    if os.environ.get("PREFECT_API_URL"):
        yield os.environ["PREFECT_API_URL"]
        return
    from prefect.settings import PREFECT_API_URL, PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS, temporary_settings

    port = _free_port()
    url = f"http://{HOST}:{port}/api"
    env = {**os.environ, "PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1"}
    server = subprocess.Popen([sys.executable, "-m", "flows.local_server", str(port), str(os.getpid())], env=env,
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + float(PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS.value())
        while not _healthy(url):
            if server.poll() is not None:
                raise ScamtraceError(f"Prefect's temporary server exited with code {server.returncode} while starting; "
                                     "run `python -m flows.local_server 4299` to see why, or set PREFECT_API_URL")
            if time.monotonic() > deadline:
                raise ScamtraceError("Prefect's temporary server did not answer in time; raise "
                                     "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS or set PREFECT_API_URL")
            time.sleep(0.2)
        with temporary_settings(updates={PREFECT_API_URL: url}):
            yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _exit_with_parent(parent: int) -> None:
    """Exit as soon as the process that started us is gone (it is then re-parented, so getppid changes). The parent's
    pid comes from its command line: read here, getppid() would name the new parent when the one that started us
    was killed while we were still starting up, and we would wait for it forever."""
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_POLL_SECONDS)
        os._exit(0)  # the server holds nothing worth a clean shutdown once its only client is gone

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def main(port: int, parent: int) -> None:
    _exit_with_parent(parent)
    import uvicorn

    uvicorn.run("prefect.server.api.server:create_app", factory=True, host=HOST, port=port,
                log_level="error", lifespan="on")


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else os.getppid())
