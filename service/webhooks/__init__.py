"""Webhooks: issuers subscribe a URL to event types; each event of theirs is POSTed to it, signed
per Standard Webhooks, with retries over more than a day. See ``docs/webhooks.md``."""
