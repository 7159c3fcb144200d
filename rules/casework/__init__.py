"""Casework: alerts, networks, compound links and parties from a detect run's scores; see rules/casework/stages.py."""

from rules.casework.stages import build

__all__ = ["build"]
