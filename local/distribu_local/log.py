"""One-line logs of the local stack itself (the functions log JSON through Powertools, as in the cloud)."""

from __future__ import annotations

import logging
import sys

logger = logging.getLogger("distribu_local")


def configure() -> None:
    if logger.handlers:
        return
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(asctime)s.%(msecs)03d %(message)s", "%H:%M:%S"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False


def info(component: str, message: str) -> None:
    logger.info("[%s] %s", component, message)


def error(component: str, message: str, *, exc_info: bool = False) -> None:
    logger.error("[%s] %s", component, message, exc_info=exc_info)
