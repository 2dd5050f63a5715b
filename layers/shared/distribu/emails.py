"""Email through SES from the company's configured sender (captured locally by the local stack)."""

from __future__ import annotations

from distribu.aws import client
from distribu.config import get_settings


def send(to: list[str], subject: str, text: str) -> str:
    """Send one plain-text email to every address in ``to``; returns the SES message id."""
    response = client("ses").send_email(
        Source=get_settings().sender_email,
        Destination={"ToAddresses": to},
        Message={"Subject": {"Data": subject, "Charset": "UTF-8"},
                 "Body": {"Text": {"Data": text, "Charset": "UTF-8"}}},
    )
    return str(response["MessageId"])
