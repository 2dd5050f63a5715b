"""Emails sent through SES, as moto captured them, for ``/_local/mail`` and ``/_local/mail.json``.

moto 5.2.5 keeps every accepted message in the SES backend's ``sent_messages`` (SES v2 sends through
the same backend): ``Message`` for ``SendEmail`` (one body: the HTML part if there was one, else the
text), ``RawMessage`` for ``SendRawEmail`` (the MIME text) and ``TemplateMessage`` for templated
sends. moto does not record when; :meth:`Mailbox.observe` runs after every moto request, inside the
moto lock, and stamps new messages with the time it first saw them.
"""

from __future__ import annotations

import email
import email.policy
import html
import re
import threading
import time
from datetime import datetime, timezone
from email.utils import getaddresses
from typing import Any

from jinja2 import Environment, select_autoescape
from markupsafe import Markup, escape

_TAGS = re.compile(r"<[^>]+>")
_URL = re.compile(r"https?://[^\s<>\"']+")


def _backend(account_id: str, region: str) -> Any:
    from moto.ses.models import ses_backends

    return ses_backends[account_id][region]


def html_to_text(markup: str) -> str:
    text = re.sub(r"(?is)<(script|style)\b.*?</\1>", "", markup)
    text = re.sub(r"(?i)<br\s*/?>|</p>|</div>|</tr>|</h\d>|</li>", "\n", text)
    text = html.unescape(_TAGS.sub("", text))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(line.strip() for line in text.splitlines())).strip()


def _addresses(destinations: Any) -> list[str]:
    if isinstance(destinations, dict):
        found = [address for name in ("ToAddresses", "CcAddresses", "BccAddresses")
                 for address in destinations.get(name, []) or []]
    elif isinstance(destinations, list):
        found = [address for address in destinations if isinstance(address, str)]
    else:
        found = []
    return list(dict.fromkeys(found))


def _attachments(parsed: Any) -> list[dict[str, Any]]:
    """A raw message's attached files: ``{index, filename, contentType, size}`` (size in bytes, decoded)."""
    found = []
    for index, part in enumerate(parsed.iter_attachments()):
        payload = part.get_payload(decode=True) or b""
        found.append({"index": index, "filename": part.get_filename() or f"attachment-{index + 1}",
                      "contentType": part.get_content_type(), "size": len(payload)})
    return found


def attachment(message: Any, index: int) -> tuple[str, str, bytes] | None:
    """One attached file of a captured raw message: (file name, content type, bytes)."""
    if type(message).__name__ != "RawMessage":
        return None
    parsed = email.message_from_string(message.raw_data, policy=email.policy.default)
    for position, part in enumerate(parsed.iter_attachments()):
        if position == index:
            return (part.get_filename() or f"attachment-{index + 1}", part.get_content_type(),
                    part.get_payload(decode=True) or b"")
    return None


def size_label(size: int) -> str:
    return f"{size} bytes" if size < 1024 else f"{size / 1024:.1f} KB" if size < 1048576 else f"{size / 1048576:.1f} MB"


def describe(message: Any) -> dict[str, Any]:
    """One captured message as ``{id, to, from, subject, text, html, attachments}``."""
    kind = type(message).__name__
    if kind == "RawMessage":
        parsed = email.message_from_string(message.raw_data, policy=email.policy.default)
        text_part = parsed.get_body(preferencelist=("plain",))
        html_part = parsed.get_body(preferencelist=("html",))
        html_body = html_part.get_content() if html_part is not None else None
        text = text_part.get_content() if text_part is not None else html_to_text(html_body or "")
        header_to = [address for _, address in getaddresses(parsed.get_all("to", []) + parsed.get_all("cc", []))]
        to = list(dict.fromkeys(header_to + [address for _, address in getaddresses(_addresses(message.destinations))]))
        return {"id": message.id, "to": [address for address in to if address],
                "from": str(parsed.get("from") or message.source or ""), "subject": str(parsed.get("subject") or ""),
                "text": text, "html": html_body, "attachments": _attachments(parsed)}
    if kind == "TemplateMessage":
        return {"id": message.id, "to": _addresses(message.destinations), "from": message.source or "",
                "subject": f"(template {message.template})", "text": str(message.template_data), "html": None,
                "attachments": []}
    body = str(getattr(message, "body", "") or "")
    is_html = bool(_TAGS.search(body)) and body.lstrip().startswith("<")
    return {"id": message.id, "to": _addresses(getattr(message, "destinations", {})),
            "from": getattr(message, "source", "") or "", "subject": getattr(message, "subject", "") or "",
            "text": html_to_text(body) if is_html else body, "html": body if is_html else None, "attachments": []}


class Mailbox:
    def __init__(self, lock: threading.Lock, account_id: str, region: str) -> None:
        self.lock = lock
        self.account_id = account_id
        self.region = region
        self._seen_at: dict[str, float] = {}
        self._count = 0

    def observe(self, environ: dict[str, Any] | None = None) -> None:
        """Called with the moto lock held, after every request: stamp messages not seen before."""
        sent = _backend(self.account_id, self.region).sent_messages
        if len(sent) == self._count:
            return
        now = time.time()
        for message in sent[self._count:]:
            for identifier in getattr(message, "ids", None) or [getattr(message, "id", None)]:
                if identifier:
                    self._seen_at.setdefault(identifier, now)
        self._count = len(sent)

    def raw(self, message_id: str) -> Any:
        """The captured message with this id, as moto keeps it (``None`` when there is none)."""
        with self.lock:
            for message in _backend(self.account_id, self.region).sent_messages:
                if getattr(message, "id", None) == message_id:
                    return message
        return None

    def messages(self) -> list[dict[str, Any]]:
        """Newest first: ``{to, from, subject, text, time}`` (and ``id``, ``html``)."""
        with self.lock:
            self.observe()
            sent = list(_backend(self.account_id, self.region).sent_messages)
            stamped = [(self._seen_at.get(getattr(message, "id", ""), time.time()), message) for message in sent]
        described = []
        for index, (seen, message) in enumerate(stamped):
            try:
                entry = describe(message)
            except Exception as failure:  # an odd MIME message must not break the page
                entry = {"id": getattr(message, "id", ""), "to": [], "from": str(getattr(message, "source", "")),
                         "subject": f"(could not read this message: {failure})",
                         "text": str(getattr(message, "raw_data", "")), "html": None}
            entry["time"] = datetime.fromtimestamp(seen, timezone.utc).isoformat(timespec="seconds")
            described.append((seen, index, entry))
        return [entry for _, _, entry in sorted(described, key=lambda item: (item[0], item[1]), reverse=True)]


def linkify(text: str) -> Markup:
    """Escape, then make URLs clickable (the URL text is already escaped, so it is safe as an href)."""
    escaped = str(escape(text))
    return Markup(_URL.sub(lambda match: f'<a href="{match.group(0)}">{match.group(0)}</a>', escaped))


_PAGE = Environment(autoescape=select_autoescape(default=True, default_for_string=True)).from_string("""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Local mail - Distribu</title>
<style>
body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem;color:#222}
article{border:1px solid #ddd;border-radius:6px;padding:1rem;margin:1rem 0}
dl{display:grid;grid-template-columns:6rem 1fr;margin:0 0 .5rem}dt{color:#666}dd{margin:0}
pre{white-space:pre-wrap;background:#f6f6f6;padding:.75rem;border-radius:4px}
iframe{width:100%;height:24rem;border:1px solid #eee}
</style></head><body>
<h1>Emails sent through SES</h1>
<p>{{ messages|length }} message(s), newest first. <a href="/_local/mail">Refresh</a> -
<a href="/_local/mail.json">JSON</a></p>
{% for message in messages %}
<article>
<dl><dt>Time</dt><dd>{{ message.time }}</dd><dt>From</dt><dd>{{ message["from"] }}</dd>
<dt>To</dt><dd>{{ message.to|join(", ") }}</dd><dt>Subject</dt><dd><strong>{{ message.subject }}</strong></dd></dl>
<pre>{{ linkify(message.text) }}</pre>
{% if message.attachments %}<p class="attachments"><strong>Attached:</strong></p><ul class="attachments">
{% for file in message.attachments %}<li><a href="/_local/mail/{{ message.id }}/attachments/{{ file.index }}" download="{{ file.filename }}">{{ file.filename }}</a>
({{ file.contentType }}, {{ size_label(file.size) }})</li>{% endfor %}</ul>{% endif %}
{% if message.html %}<details><summary>HTML</summary>
<iframe sandbox srcdoc="{{ message.html }}" title="HTML body"></iframe></details>{% endif %}
</article>
{% else %}
<p>No email yet. Invites, low-stock alerts and other emails appear here when they are sent.</p>
{% endfor %}
</body></html>
""")


def render_page(messages: list[dict[str, Any]]) -> str:
    return _PAGE.render(messages=messages, linkify=linkify, size_label=size_label)
