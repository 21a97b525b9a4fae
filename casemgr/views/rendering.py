"""One template serves the full page and its htmx fragment."""
from __future__ import annotations

from flask import make_response, render_template

from casemgr.extensions import htmx


def render(page: str, partial: str | None = None, status: int = 200, **context):
    """Render `partial` for an htmx request, `page` (which includes it) otherwise."""
    template = partial if (partial and htmx and not htmx.boosted) else page
    response = make_response(render_template(template, **context), status)
    response.vary.add("HX-Request")
    return response
