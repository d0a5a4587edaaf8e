"""/docs (Swagger UI) and /redoc, served with their own assets.

FastAPI's default pages load Swagger UI and ReDoc from a CDN, and ReDoc Google Fonts too:
blank pages without internet access, and every reader's address handed to third parties.
The assets here come from the fastapi-offline package (swagger-ui-dist 5, which renders
OpenAPI 3.1, and ReDoc 2), so the pages make no request to any other host.

A Content-Security-Policy holds the browser to that: ReDoc's footer logo is an image on
cdn.redoc.ly that no option removes, and a later version of either bundle could add
another. The browser refuses such loads instead of sending them.
"""

import base64
import hashlib
import re
from importlib.resources import files

from fastapi import FastAPI, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.staticfiles import StaticFiles
from starlette.responses import HTMLResponse

DOCS_PATH = "/docs"
REDOC_PATH = "/redoc"
ASSETS_PATH = "/docs/assets"
OAUTH2_REDIRECT_PATH = "/docs/oauth2-redirect"
ASSETS = files("fastapi_offline") / "static"

_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)
_POLICY = (
    "default-src 'none'; script-src 'self'{hashes}; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
    "worker-src 'self' blob:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def _sha256(script: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()


def _same_origin_only(response: HTMLResponse) -> HTMLResponse:
    """Allow the page's own inline scripts by hash: they hold the spec's URL, which varies
    with the proxy prefix, so the hashes are computed per response."""
    body = bytes(response.body).decode()
    hashes = "".join(f" '{_sha256(script)}'" for script in _INLINE_SCRIPT.findall(body))
    response.headers["Content-Security-Policy"] = _POLICY.format(hashes=hashes)
    return response


def install_docs(app: FastAPI) -> None:
    """Add the documentation pages to an app created with ``docs_url=None, redoc_url=None``."""
    app.mount(ASSETS_PATH, StaticFiles(directory=str(ASSETS)), name="docs-assets")

    def _root(request: Request) -> str:
        # Behind a proxy that strips a prefix, the page's URLs must keep it.
        return str(request.scope.get("root_path", "")).rstrip("/")

    @app.get(DOCS_PATH, include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = _root(request)
        return _same_origin_only(
            get_swagger_ui_html(
                openapi_url=f"{root}{app.openapi_url}",
                title=f"{app.title} - Swagger UI",
                swagger_js_url=f"{root}{ASSETS_PATH}/swagger-ui-bundle.js",
                swagger_css_url=f"{root}{ASSETS_PATH}/swagger-ui.css",
                swagger_favicon_url=f"{root}{ASSETS_PATH}/favicon.png",
                oauth2_redirect_url=f"{root}{OAUTH2_REDIRECT_PATH}",
                # Swagger UI otherwise asks validator.swagger.io about the spec (its badge).
                swagger_ui_parameters={"validatorUrl": None, **(app.swagger_ui_parameters or {})},
            )
        )

    @app.get(OAUTH2_REDIRECT_PATH, include_in_schema=False)
    async def swagger_ui_oauth2_redirect() -> HTMLResponse:
        return _same_origin_only(get_swagger_ui_oauth2_redirect_html())

    @app.get(REDOC_PATH, include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = _root(request)
        return _same_origin_only(
            get_redoc_html(
                openapi_url=f"{root}{app.openapi_url}",
                title=f"{app.title} - ReDoc",
                redoc_js_url=f"{root}{ASSETS_PATH}/redoc.standalone.js",
                redoc_favicon_url=f"{root}{ASSETS_PATH}/favicon.png",
                with_google_fonts=False,
            )
        )
