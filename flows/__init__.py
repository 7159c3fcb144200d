"""Prefect flows and the `scamtrace` command line. Flows only wire stages together: no SQL, no thresholds."""

import os

# Quiet, local-first Prefect defaults; a deployment can override them in its environment.
for _key, _value in {
    "PREFECT_LOGGING_LEVEL": "WARNING",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    "GX_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_LOGGING_LEVEL": "WARNING",
}.items():
    os.environ.setdefault(_key, _value)
