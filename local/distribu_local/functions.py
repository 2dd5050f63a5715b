"""The template's functions, loaded in this process and invoked through their real Lambda handlers."""

from __future__ import annotations

import asyncio
import importlib
import sys
import threading
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable

from distribu_local.apigateway import LambdaContext
from distribu_local.template import FunctionSpec, Stack


class FunctionUnavailable(RuntimeError):
    pass


@dataclass
class LoadedFunction:
    spec: FunctionSpec
    physical_name: str
    handler: Callable[[dict[str, Any], Any], Any] | None = None
    error: str | None = None
    # One "container": queue and schedule invocations of a function run one at a time, as in Lambda
    # (a handler's module-level state is never shared by two concurrent batches there).
    lock: threading.Lock = field(default_factory=threading.Lock)


class Functions:
    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.loaded: dict[str, LoadedFunction] = {}

    def load(self) -> dict[str, str]:
        """Put code and layers on ``sys.path`` (functions first, as in Lambda) and import each handler.

        Returns the functions that failed to import, with the error; they answer 500 until fixed.
        """
        specs = self.stack.functions()
        paths = [str(path) for path in self.stack.layer_paths()] + \
            [str(spec.code_uri) for spec in specs.values()]
        for path in paths:
            if path in sys.path:
                sys.path.remove(path)
            sys.path.insert(0, path)
        failures = {}
        for logical_id, spec in specs.items():
            loaded = LoadedFunction(spec, f"{self.stack.stack_name}-{logical_id}")
            module_name, _, attribute = spec.handler.rpartition(".")
            try:
                loaded.handler = getattr(importlib.import_module(module_name), attribute)
            except Exception:
                loaded.error = traceback.format_exc()
                failures[logical_id] = loaded.error
            self.loaded[logical_id] = loaded
        return failures

    def context(self, logical_id: str) -> LambdaContext:
        loaded = self.loaded[logical_id]
        return LambdaContext(
            function_name=loaded.physical_name,
            invoked_function_arn=f"arn:aws:lambda:{self.stack.region}:{self.stack.account_id}:function:"
                                 f"{loaded.physical_name}",
            timeout_seconds=loaded.spec.timeout,
        )

    def invoke(self, logical_id: str, event: dict[str, Any], *, exclusive: bool = False) -> Any:
        """Call the handler as Lambda would. ``exclusive`` serialises the call with the function's other
        exclusive calls. Each call gets its own event loop (Mangum runs the ASGI app on the current one)."""
        loaded = self.loaded[logical_id]
        if loaded.handler is None:
            raise FunctionUnavailable(f"{logical_id} failed to import:\n{loaded.error}")
        lock = loaded.lock if exclusive else None
        if lock is not None:
            lock.acquire()
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            return loaded.handler(event, self.context(logical_id))
        finally:
            asyncio.set_event_loop(None)
            loop.close()
            if lock is not None:
                lock.release()
