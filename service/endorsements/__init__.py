"""Endorsements of issued credentials by the clients who hired their earners (OB 3.0 EndorsementCredential)."""
