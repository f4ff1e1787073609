"""Bulk issuance: a CSV or JSON-lines file of rows becomes a job whose chunks workers share."""
