"""The routes of the public pages other than the badge page: home, verify (``routes.py``)."""
