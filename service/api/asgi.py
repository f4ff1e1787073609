"""ASGI entry point for uvicorn workers: ``uvicorn service.api.asgi:app``.

Once the app is built, everything alive (modules, the app, its compiled routes, schemas and
JSON-LD context tables) is moved out of the garbage collector's generations (:func:`gc.freeze`):
a full collection no longer walks those objects, which live as long as the worker. Without it
full collections paused a worker long enough to set ``POST /v1/verify``'s p99 at 171 and 289 ms;
with it between 14 and 61 ms over six rounds, the same median, ~5 ms (bench/http_load.py
--client wrk, 2 workers on PostgreSQL, load 7-11). Only a serving process imports this module: the tests build apps
with :func:`~service.api.app.create_app` and keep collecting what they leave behind.
"""

import gc

from service.api.app import create_app

app = create_app()
gc.freeze()
