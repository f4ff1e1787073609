"""Credential status: W3C Bitstring Status Lists (revocation, suspension), their allocation,
publication and re-signing, and the revoke / suspend / unsuspend actions."""
