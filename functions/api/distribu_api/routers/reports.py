"""/api/v1/reports: sales, customer spend and inventory valuation, read from the rollups (never the orders)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query

from distribu.apikeys import ApiKeyContext
from distribu_api.lazy import lazy_module
from distribu_api.dependencies import PageParams, page_params, require_scope

reports = lazy_module("distribu.reports")

router = APIRouter(prefix="/reports", tags=["reports"])

PRESET = Query(None, description="today, week (Monday to today), month (the 1st to today; the default), quarter, "
                                 "year or all (from the first order's day). Days are UTC days.")
FROM = Query(None, alias="from", description="ISO 8601 date (YYYY-MM-DD; a datetime counts as its UTC day), the "
                                             "range's first day. With `to`, overrides `preset`; a bad date, one "
                                             "outside 1900-2999, or one after `to` is a 400 naming it.")
TO = Query(None, description="ISO 8601 date (YYYY-MM-DD), the range's last day (to its end, 23:59:59.999Z).")


@router.get("/sales", response_model=None,
            summary="Orders and revenue per day and per status over a range (every status counts, cancelled "
                    "included)")
async def sales_report(preset: str | None = PRESET, from_: str | None = FROM, to: str | None = TO,
                       key: ApiKeyContext = Depends(require_scope("reports:read"))) -> dict[str, Any]:
    return {"data": reports.sales_report(key.company_id, reports.resolve_range(preset, from_, to))}


@router.get("/customers", response_model=None,
            summary="Each customer's orders and revenue over a range, highest revenue first (ties by email)")
async def customer_spend_report(preset: str | None = PRESET, from_: str | None = FROM, to: str | None = TO,
                                key: ApiKeyContext = Depends(require_scope("reports:read"))) -> dict[str, Any]:
    return {"data": reports.customer_spend_report(key.company_id, reports.resolve_range(preset, from_, to))}


@router.get("/inventory", response_model=None,
            summary="Stock x catalog price of every product, active and inactive: totals, per-category "
                    "subtotals, products by value (highest first)")
async def inventory_report(page: PageParams = Depends(page_params),
                           key: ApiKeyContext = Depends(require_scope("reports:read"))) -> dict[str, Any]:
    return reports.inventory_report(key.company_id, page.limit, page.cursor)
