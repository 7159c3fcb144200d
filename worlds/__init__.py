"""Worlds and their truth: the synthetic scam-economy generator (worlds.synth), the benchmark's canonical world
(worlds.canonical), the readers of truth labels in every supported format (worlds.truth_formats) and the scorer
of a detect run against them (worlds.evaluate). Nothing in transforms, rules or exports imports this package."""
