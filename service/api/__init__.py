"""The HTTP layer: the FastAPI app, dependencies, access rules, error rendering, paging
headers, limits and health checks. Domain routers plug in here."""
