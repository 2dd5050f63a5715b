"""What every server-rendered page of the storefront and the dashboard is built on.

- :mod:`~distribu.web.app`: the Starlette app factory (security headers, error pages, static files);
- :mod:`~distribu.web.templating`: one Jinja2 environment per function, autoescaped, with the shared
  layout, macros and filters;
- :mod:`~distribu.web.page`: a request's page context (session, CSRF, flash, forms, rendering);
- :mod:`~distribu.web.security`: CSRF tokens, signed cookies and the Content-Security-Policy.

Business rules never live here: pages call the domain package, as the API does.
"""
