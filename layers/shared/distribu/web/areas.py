"""An area of a page function (inventory, orders, settings...) whose page module is imported on the first
request to one of its addresses.

A cold start should pay for the area its first request needs, not for all of them: importing every area's
page module, the domain modules behind it and compiling each route's pattern cost the dashboard about
20 ms before its first byte. An area names the addresses it answers, ``within`` a subtree (the path itself
and everything under it) or exactly ``at`` a path, so ruling an area out imports nothing.

Several areas may share a subtree (inventory, product images and CSV imports all live under
``/dashboard/inventory``): the router asks them in order and a module is imported only when the areas
before it had no route for the request.
"""

from __future__ import annotations

import importlib
import threading
from typing import Any, Iterable

from starlette.routing import BaseRoute, Match, NoMatchFound, get_route_path
from starlette.types import Receive, Scope, Send

MATCHED_ROUTE = "distribu.area_route"


class Area(BaseRoute):
    def __init__(self, module: str, *, within: Iterable[str] = (), at: Iterable[str] = ()) -> None:
        self.module = module
        self.within = tuple(path.rstrip("/") for path in within)
        self.at = frozenset(at)
        self._routes: list[BaseRoute] | None = None
        self._lock = threading.Lock()

    def owns(self, path: str) -> bool:
        """Whether ``path`` (a request's, or a route's pattern) is one of this area's addresses."""
        return path in self.at or any(path == base or path.startswith(base + "/") for base in self.within)

    @property
    def routes(self) -> list[BaseRoute]:
        """The page module's ``routes``, imported once, under a lock: the local stack serves first requests
        on many threads at once."""
        if self._routes is None:
            with self._lock:
                if self._routes is None:
                    self._routes = list(importlib.import_module(self.module).routes)
        return self._routes

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http" or not self.owns(get_route_path(scope)):
            return Match.NONE, {}
        partial: tuple[Match, Scope] | None = None
        for route in self.routes:
            match, child_scope = route.matches(scope)
            if match is Match.FULL:
                return match, {**child_scope, MATCHED_ROUTE: route}
            if match is Match.PARTIAL and partial is None:
                partial = match, {**child_scope, MATCHED_ROUTE: route}
        return partial or (Match.NONE, {})

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await scope[MATCHED_ROUTE].handle(scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: Any) -> Any:
        for route in self.routes:
            try:
                return route.url_path_for(name, **path_params)
            except NoMatchFound:
                continue
        raise NoMatchFound(name, path_params)

    def __repr__(self) -> str:
        return f"Area({self.module!r})"


def every_route(routes: Iterable[BaseRoute]) -> list[BaseRoute]:
    """The routes of an app with each area's own routes in place of the area (imports every area: for
    tests and tools that walk an app, never for a request)."""
    return [route for item in routes for route in (item.routes if isinstance(item, Area) else [item])]
