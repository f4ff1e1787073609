"""Routing: the routers are included busiest first (service.api.app._hot_first), which is safe only
because no route's paths are claimed by a route matched before it."""

from __future__ import annotations

import re

from service.api.app import create_app
from tests.api.test_access import api_routes

PARAMETER = re.compile(r"\{[^}]+\}")


def test_every_route_is_the_first_to_match_its_own_paths(settings):
    routes = list(api_routes(create_app(settings).routes))  # in the order requests are matched
    shadowed = []
    for route in routes:
        for value in ("x1", "1"):
            example = PARAMETER.sub(value, route.path)
            for method in route.methods:
                first = next(r for r in routes if method in r.methods and r.path_regex.match(example))
                if first is not route:
                    shadowed.append(f"{method} {example}: {route.path} is shadowed by {first.path}")
    assert shadowed == []


def test_the_busiest_public_routes_are_matched_first(settings):
    paths = [route.path for route in api_routes(create_app(settings).routes)]

    assert paths.index("/v1/verify") < 10
    assert paths.index("/credentials/{credential_id}") < 30
