"""Synthetic scam-economy world with truth labels (`scamtrace synth`; docs/synth.md): see worlds/synth/generate.py."""

from worlds.synth.config import PRESETS, TYPOLOGIES, Knobs, resolve
from worlds.synth.generate import generate_world, statement_readers

__all__ = ["generate_world", "statement_readers", "PRESETS", "TYPOLOGIES", "Knobs", "resolve"]
