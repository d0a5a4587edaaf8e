"""Rendering a page from app/web/templates (French, accessible, no JavaScript needed)."""

from functools import cache
from typing import Any

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("app.web", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_page(
    request: Request, template: str, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    html = _environment().get_template(template).render({"request": request, **context})
    return HTMLResponse(
        html,
        status_code=status_code,
        # A page opened from a private link: not kept by shared caches nor sent as referrer.
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )
