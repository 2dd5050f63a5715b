"""Storefront pages. Sign-in, catalog, cart and orders arrive with the storefront issue; today every
store URL answers with the store's branded landing page, or a 404 page for an unknown store."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from distribu import companies
from distribu.errors import NotFound

templates = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                        autoescape=select_autoescape(default=True))

app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)


def render(name: str, status: int = 200, **context: object) -> HTMLResponse:
    return HTMLResponse(templates.get_template(name).render(**context), status_code=status)


@app.get("/store/{slug}")
@app.get("/store/{slug}/{page:path}")
def store_page(request: Request, slug: str, page: str = "") -> HTMLResponse:
    try:
        company = companies.get_company_by_slug(slug)
    except NotFound:
        return render("not_found.html", status=404, slug=slug)
    return render("landing.html", company=company, page=page)
