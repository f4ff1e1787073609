"""Public pages: the badge page at ``/credentials/{id}`` and its badge images.

:mod:`service.web.routes` is the router; :mod:`service.web.badge_page` builds what the page shows;
the templates are in ``templates/`` (rendered by :mod:`service.core.templates`).
"""
