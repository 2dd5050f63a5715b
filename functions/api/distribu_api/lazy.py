"""Routers loaded on first use, so a cold start pays only for the routes it serves (domain modules load
lazily through :mod:`distribu.lazy`).

Building a FastAPI route is costly (each one analyses its signature and dependencies into pydantic
fields), and a cold request needs one resource's routes out of about thirty. ``LazyRouters`` includes
a resource's router on the first request under its prefix, and all of them when the OpenAPI document
is built. ``lazy_module`` does the same for the domain modules a router names but a request may not
touch. Both load under a lock: the local stack serves requests on many threads, and none may see a
half-included router or a half-initialised module (``importlib.util.LazyLoader`` allows that on 3.11).
"""

from __future__ import annotations

import importlib
import threading
from typing import Any, Sequence

from fastapi import FastAPI

from distribu.lazy import LazyModule, lazy_module  # noqa: F401 - the routers' lazy domain modules


__all__ = ["LazyModule", "LazyRouters", "lazy_module", "IncludeRoutersOnDemand"]


class LazyRouters:
    """``{resource: module}`` routers, each included into ``app`` under ``{prefix}/{resource}`` on demand.

    A router module exposes ``router``; its routes must all live under its resource's path segment,
    which is what lets the first path segment after the prefix pick the module. ``dependencies`` run
    before every included route's own.
    """

    def __init__(self, app: FastAPI, prefix: str, modules: dict[str, str], *,
                 dependencies: Sequence[Any] = ()) -> None:
        self._app = app
        self._prefix = prefix
        self._dependencies = list(dependencies)
        self._pending = dict(modules)
        self._included: list[str] = []
        self._lock = threading.Lock()

    @property
    def included(self) -> list[str]:
        """The resources whose routers are in the app, in the order they were included."""
        return list(self._included)

    def include_for(self, path: str) -> None:
        """Includes the router that serves ``path``, if any is still pending."""
        if self._pending and path.startswith(self._prefix + "/"):
            resource = path[len(self._prefix) + 1:].split("/", 1)[0]
            if resource in self._pending:
                self._include(resource)

    def include_all(self) -> None:
        for resource in list(self._pending):
            self._include(resource)

    def _include(self, resource: str) -> None:
        with self._lock:
            module = self._pending.get(resource)
            if module is not None:
                self._app.include_router(importlib.import_module(module).router, prefix=self._prefix,
                                         dependencies=self._dependencies)
                del self._pending[resource]
                self._included.append(resource)


class IncludeRoutersOnDemand:
    """ASGI middleware: includes the request's router before routing sees the request."""

    def __init__(self, app: Any, routers: LazyRouters) -> None:
        self.app = app
        self.routers = routers

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            self.routers.include_for(scope["path"])
        await self.app(scope, receive, send)
