"""The OAuth 2.0 authorization server: Authlib's grants and endpoints over SkillCred's tables.

The protocol (parameter checks, client authentication, PKCE, error responses, metadata and
registration validation) is Authlib's; this package only stores and finds clients, codes, grants
and tokens, and adapts Starlette requests to Authlib's request objects.
"""
