"""Judgement: rules measure one thing each, bands turn measures into scored outcomes, typologies weigh them.

rules/catalog/<rule_id>/   rule.yml + rule.sql (or rule.py): discovered, no registration needed
rules/typologies/<id>.yml  weights of rule outcomes and an alert threshold per typology
rules/engine.py            runs the catalogue on DuckDB: detect(con, since=, until=, config_path=)
rules/casework/            alerts, networks, compound links and parties from a detect run's scores
(the scorer of a run against truth labels is worlds/evaluate.py)
"""
