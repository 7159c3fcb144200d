"""Prefect flows and the `scamtrace` command line. Flows only wire stages together: no SQL, no thresholds."""

import os

# Quiet, local-first Prefect defaults; a deployment can override them in its environment.
for _key, _value in {
    "PREFECT_LOGGING_LEVEL": "WARNING",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    "GX_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_LOGGING_LEVEL": "WARNING",
    # The temporary local server starts in 8-13 s on an idle 2-core machine; give a busy one room.
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    # A failed run is recorded in Prefect with its message; the CLI prints that message as one line, so the
    # run loggers' tracebacks would only repeat it. `scamtrace serve` turns them back on for operators.
    "PREFECT_LOGGING_LOGGERS_PREFECT_FLOW_RUNS_LEVEL": "CRITICAL",
    "PREFECT_LOGGING_LOGGERS_PREFECT_TASK_RUNS_LEVEL": "CRITICAL",
}.items():
    os.environ.setdefault(_key, _value)
