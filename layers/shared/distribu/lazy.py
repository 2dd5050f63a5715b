"""Modules loaded on first use, so a cold start pays only for what its first request touches.

A page or router names the domain modules it may call (``orders = lazy_module("distribu.orders")``); the
import happens on the first attribute access, under a lock: the local stack serves requests on many
threads, and none may see a half-initialised module (``importlib.util.LazyLoader`` allows that on 3.11).
"""

from __future__ import annotations

import importlib
import threading
from types import ModuleType
from typing import Any


class LazyModule:
    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None
        self._lock = threading.Lock()

    def _load(self) -> ModuleType:
        with self._lock:
            if self._module is None:
                self._module = importlib.import_module(self._name)
        return self._module

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self._module or self._load(), attribute)


def lazy_module(name: str) -> Any:
    return LazyModule(name)
