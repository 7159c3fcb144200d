"""The case review workbench: a web application where analysts triage, decide and supervisors approve alerts.

Reads the serving snapshot the batch publishes (serving.py), writes only the case store (casestore.py); the batch
pulls decisions and approvals from there (sync.py). See docs/workbench.md.
"""
