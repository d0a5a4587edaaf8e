"""Recruiters' scripts writing offers by their own reference: one (`PUT`) or many
(`POST /v1/offers/bulk` in JSON, NDJSON or CSV)."""
