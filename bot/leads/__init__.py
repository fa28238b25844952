"""Leads: who wants what, stored with dedup, served to staff through an API, pushed to the CRM.

models.py    tables (leads, lead_outbox) and the Create/Read/Filter schemas
service.py   record, list, update status, export (plain functions taking a session)
outbox.py    the transactional outbox rows and their delivery bookkeeping
worker.py    OutboxWorker: the background task that pushes outbox rows to the CRM webhook
views.py     the /api/leads router (API-key auth)
scoring.py   the documented 0–100 lead score
advisors.py  "my leads" for advisors on WeCom
"""
