"""Shared foundations every domain uses: settings, database, errors, keystore, mail, the base
model helpers, paging, validation and migrations. No FastAPI here."""
