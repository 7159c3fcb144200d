"""prefect.yaml stays in step with the flow it deploys."""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_prefect_yaml_points_at_the_run_flow_with_valid_parameters():
    spec = yaml.safe_load((ROOT / "prefect.yaml").read_text())
    (dep,) = spec["deployments"]
    module_path, func = dep["entrypoint"].split(":")
    module = importlib.import_module(module_path.removesuffix(".py").replace("/", "."))
    flow = getattr(module, func)
    params = inspect.signature(flow.fn).parameters
    assert set(dep["parameters"]) <= set(params)
    required = {n for n, p in params.items() if p.default is inspect.Parameter.empty}
    assert required <= set(dep["parameters"])
    assert dep["schedules"][0]["cron"].count(" ") == 4
