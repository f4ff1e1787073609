"""The issuer admin's pages for the issuer's OAuth clients (its platforms' servers)."""
