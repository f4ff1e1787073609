"""The issuer admin's pages for the issuer's webhook subscriptions."""
