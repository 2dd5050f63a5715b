"""Settings read from the environment once per container.

The same names are set by ``template.yaml`` in the cloud and by the local stack, so no code path
knows which one it runs on except through ``DISTRIBU_ENV``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class Settings:
    table_name: str
    images_bucket: str
    imports_bucket: str
    sender_email: str
    environment: str
    default_rate_limit: int

    @property
    def is_local(self) -> bool:
        """Local development relaxes cloud-only guards (Secure cookies, loopback webhooks)."""
        return self.environment == "local"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings(
        table_name=os.environ.get("TABLE_NAME", "distribu"),
        images_bucket=os.environ.get("IMAGES_BUCKET", "distribu-images"),
        imports_bucket=os.environ.get("IMPORTS_BUCKET", "distribu-imports"),
        sender_email=os.environ.get("SENDER_EMAIL", "noreply@example.com"),
        environment=os.environ.get("DISTRIBU_ENV", "cloud"),
        default_rate_limit=int(os.environ.get("API_RATE_LIMIT_PER_MINUTE", "60")),
    )
