"""The ``skillcred`` command line: ``service.cli.main:main`` and the commands behind it."""
