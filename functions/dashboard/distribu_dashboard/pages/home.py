"""The dashboard's home: inventory health, recent activity and the sales summary."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from distribu import audit, audit_text, catalog_index, rollups
from distribu_dashboard.desk import open_desk

RECENT_ACTIVITY = 10


def _home_reads(company_id: str) -> list[tuple[str, str]]:
    return [catalog_index.head_key(company_id), rollups.sales_summary_key(company_id)]


async def home(request: Request) -> Response:
    """Three round trips whatever the catalog's size or the order history: the session; one batch of the
    company, the catalog index's head (its counters are the health panel) and this month's sales rollup;
    one Query of the latest audit entries."""
    page, found = open_desk(request, also_read=_home_reads)
    staff = page.require_staff()
    summary = catalog_index.summary(found.get(catalog_index.head_key(staff.company_id)))
    sales = rollups.summarize(found.get(rollups.sales_summary_key(staff.company_id)))
    entries = audit.list_entries(staff.company_id, limit=RECENT_ACTIVITY, only=audit.DESCRIBED)
    activity = [{"when": entry["createdAt"], "text": audit_text.describe(entry)} for entry in entries]
    return page.render("home/index.html", health=summary.health, active_count=summary.active_count,
                       activity=activity, sales=sales)


routes = [Route("/dashboard", home, methods=["GET"])]
