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
    images_base_url: str
    imports_bucket: str
    sender_email: str
    environment: str
    default_rate_limit: int
    webhook_delivery_queue_url: str
    webhook_dead_letter_queue_url: str
    webhook_retry_base_seconds: float
    webhook_give_up_seconds: int
    session_secret: str
    public_base_url: str

    @property
    def is_local(self) -> bool:
        """Local development relaxes cloud-only guards (Secure cookies, loopback webhooks)."""
        return self.environment == "local"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings(
        table_name=os.environ.get("TABLE_NAME", "distribu"),
        images_bucket=os.environ.get("IMAGES_BUCKET", "distribu-images"),
        # Where product images are read publicly (a CDN in front of the bucket); empty: the bucket's own URL.
        images_base_url=os.environ.get("IMAGES_BASE_URL", "").rstrip("/"),
        imports_bucket=os.environ.get("IMPORTS_BUCKET", "distribu-imports"),
        sender_email=os.environ.get("SENDER_EMAIL", "noreply@example.com"),
        environment=os.environ.get("DISTRIBU_ENV", "cloud"),
        default_rate_limit=int(os.environ.get("API_RATE_LIMIT_PER_MINUTE", "60")),
        webhook_delivery_queue_url=os.environ.get("WEBHOOK_DELIVERY_QUEUE_URL", ""),
        webhook_dead_letter_queue_url=os.environ.get("WEBHOOK_DEAD_LETTER_QUEUE_URL", ""),
        # Retries back off from this delay, doubling, and stop after the give-up window (3 days).
        webhook_retry_base_seconds=float(os.environ.get("WEBHOOK_RETRY_BASE_SECONDS", "30")),
        webhook_give_up_seconds=int(os.environ.get("WEBHOOK_GIVE_UP_SECONDS", str(3 * 24 * 3600))),
        session_secret=os.environ.get("SESSION_SECRET", ""),
        # Where people reach the dashboard and storefronts (links in emails). Empty: the API's own domain,
        # as API Gateway reports it (never the request's Host header, which a client controls).
        public_base_url=os.environ.get("PUBLIC_BASE_URL", "").rstrip("/"),
    )
