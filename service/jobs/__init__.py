"""Work that outlives a request, on the procrastinate job queue.

- :mod:`service.jobs.defer`: ask for a job in the same transaction as the change that causes it;
- :mod:`service.jobs.context`: what a running job gets (engine, keystore, settings, mailer, clock);
- :mod:`service.jobs.runner`: the worker, in its own process (``skillcred worker``) or inside
  ``skillcred serve``.

Each domain declares its tasks in its own ``jobs.py`` on a procrastinate ``Blueprint``;
:mod:`service.worker` composes them into the one procrastinate ``App``.
"""
