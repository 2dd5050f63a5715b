"""Dashboard pages. Staff sign-up, sign-in and the screens arrive with the dashboard issue; today the
routes answer with a page that says so and points staff at the API and the admin CLI."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

templates = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                        autoescape=select_autoescape(default=True))

app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)


def render(name: str, status: int = 200, **context: object) -> HTMLResponse:
    return HTMLResponse(templates.get_template(name).render(**context), status_code=status)


@app.get("/")
def root() -> RedirectResponse:
    return RedirectResponse("/dashboard", status_code=302)


@app.get("/dashboard")
@app.get("/dashboard/{page:path}")
@app.get("/login")
@app.get("/signup")
@app.get("/invite/{token}")
def coming_soon(page: str = "", token: str = "") -> HTMLResponse:
    return render("coming_soon.html", status=200)


@app.post("/dashboard/{page:path}")
@app.post("/login")
@app.post("/signup")
@app.post("/logout")
@app.post("/invite/{token}")
def not_yet(page: str = "", token: str = "") -> HTMLResponse:
    return render("coming_soon.html", status=501)
