"""The issuer admin's pages: achievements with a rubric editor and ESCO skill search, credentials
(search, revoke, suspend), keys (rotate) and the audit log, for an issuer's admins and for admins."""
