"""Platforms: OAuth 2.0 clients registered to an issuer, the tokens they hold, provisioned earners
and the Open Badges 3.0 REST API under ``/ims/ob/v3p0``."""
