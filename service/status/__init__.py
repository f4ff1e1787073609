"""Credential status: W3C Bitstring Status Lists (revocation, suspension), their entries and
allocation, publication and re-signing. Revoking and suspending a credential (its state) is
:mod:`service.credentials.lifecycle`, which sets the entries through :mod:`service.status.service`."""
