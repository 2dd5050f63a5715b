"""Domain modules loaded on first use, so a cold start pays only for the routes it serves.

Every router names the domain modules it calls at import time, but most requests touch one of them;
``importlib.util.LazyLoader`` defers executing a module until an attribute of it is first read.
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType


def lazy_module(name: str) -> ModuleType:
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ImportError(name)
    spec.loader = importlib.util.LazyLoader(spec.loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
