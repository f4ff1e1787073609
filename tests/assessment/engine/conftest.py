"""Fixtures for the assessment engine tests."""

collect_ignore_glob = ["samples/*"]  # evidence files, some of which are named like tests
