"""Email through SES from the company's configured sender (captured locally by the local stack)."""

from __future__ import annotations

from email.header import Header
from email.utils import formataddr

from distribu.aws import client
from distribu.config import get_settings


def source(sender_name: str | None = None) -> str:
    """The From of an email: the configured address, shown as the company's sender name when it has one
    (``"Acme Distributors" <noreply@...>``; a non-ASCII name is RFC 2047-encoded)."""
    address = get_settings().sender_email
    if not sender_name:
        return address
    return formataddr((str(Header(sender_name, "utf-8")) if not sender_name.isascii() else sender_name, address))


def send(to: list[str], subject: str, text: str, *, sender_name: str | None = None) -> str:
    """Send one plain-text email to every address in ``to``; returns the SES message id."""
    response = client("ses").send_email(
        Source=source(sender_name),
        Destination={"ToAddresses": to},
        Message={"Subject": {"Data": subject, "Charset": "UTF-8"},
                 "Body": {"Text": {"Data": text, "Charset": "UTF-8"}}},
    )
    return str(response["MessageId"])


def send_with_attachment(to: list[str], subject: str, text: str, *, filename: str, content: bytes,
                         content_type: str) -> str:
    """One plain-text email with one file attached (SES ``SendRawEmail``), to every address in ``to``;
    returns the SES message id."""
    from email.message import EmailMessage
    from email.policy import SMTP

    sender = get_settings().sender_email
    message = EmailMessage(policy=SMTP)
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = ", ".join(to)
    message.set_content(text)
    main, _, sub = content_type.partition("/")
    message.add_attachment(content, maintype=main, subtype=sub or "octet-stream", filename=filename)
    response = client("ses").send_raw_email(Source=sender, Destinations=list(to),
                                            RawMessage={"Data": message.as_bytes()})
    return str(response["MessageId"])
