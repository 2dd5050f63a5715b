"""The import function's entry point: what an S3 notification of the imports bucket asks for."""

from __future__ import annotations

import logging
import uuid

from distribu.config import get_settings
from distribu.imports.applying import apply, notify_again
from distribu.imports.preview import validate
from distribu.imports.records import BUSY, IGNORED, PAUSED, ImportBusy, TimeLeft, apply_key, parse_object_key

logger = logging.getLogger(__name__)


def handle_object(bucket: str, key: str, *, owner: str, time_left: TimeLeft = None) -> str:
    """What an S3 notification for ``key`` asks for: a preview (an upload) or an apply (the frozen copy).

    Raises :class:`ImportBusy` when another worker is on it, so the message comes back later.
    """
    ref = parse_object_key(key)
    if ref is None or bucket != get_settings().imports_bucket:
        logger.warning("Ignoring an object that is not an import: %s/%s", bucket, key)
        return IGNORED
    if ref.is_apply:
        outcome = apply(ref.company_id, ref.import_id, owner=owner, time_left=time_left)
        if outcome == PAUSED:
            notify_again(apply_key(ref.company_id, ref.kind, ref.import_id))
    else:
        outcome = validate(ref.company_id, ref.import_id, owner=owner, time_left=time_left, kind=ref.kind)
    if outcome == BUSY:
        raise ImportBusy(f"import {ref.import_id} is being worked on elsewhere")
    return outcome


def new_owner(prefix: str) -> str:
    """A lease owner id: unique per worker run."""
    return f"{prefix}:{uuid.uuid4().hex[:12]}"
