"""/docs and /redoc load nothing from another host (issue 14): every URL in the pages is the
app's own, and each one answers. tests/browser/test_offline_docs.py renders them in Chromium."""

import re
from typing import Any

import httpx
import pytest

PAGES = ["/docs", "/redoc"]
ABSOLUTE_URL = re.compile(r"(?:https?:)?//[^\s'\"<>)]+")
REFERENCE = re.compile(r"""(?:src|href)=["']([^"']+)["']""")
EXPECTED_TYPES = {".js": "javascript", ".css": "text/css", ".png": "image/png"}


@pytest.mark.parametrize("page", PAGES)
async def test_the_page_names_no_other_host(client: httpx.AsyncClient, page: str) -> None:
    response = await client.get(page)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    # The pages name no host at all, not even ours: they work under any address.
    assert ABSOLUTE_URL.findall(response.text) == []
    assert "googleapis" not in response.text
    assert "jsdelivr" not in response.text


@pytest.mark.parametrize("page", PAGES)
async def test_every_asset_the_page_loads_is_served(client: httpx.AsyncClient, page: str) -> None:
    html = (await client.get(page)).text
    references = REFERENCE.findall(html)
    # The script, plus Swagger UI's stylesheet; the favicon on both.
    assert len(references) >= 2
    for url in references:
        assert url.startswith("/docs/assets/"), url
        response = await client.get(url)
        assert response.status_code == 200, url
        suffix = url[url.rindex(".") :]
        assert EXPECTED_TYPES[suffix] in response.headers["content-type"], url
        assert len(response.content) > 0


@pytest.mark.parametrize("page", [*PAGES, "/docs/oauth2-redirect"])
async def test_the_page_holds_the_browser_to_its_own_origin(
    client: httpx.AsyncClient, page: str
) -> None:
    policy = (await client.get(page)).headers["content-security-policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["img-src"] == "'self' data:"
    assert directives["connect-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    # Inline scripts run by hash only, never as 'unsafe-inline'.
    assert "unsafe" not in directives["script-src"]
    assert ABSOLUTE_URL.findall(policy) == []


async def test_swagger_ui_loads_the_spec_the_app_serves(client: httpx.AsyncClient) -> None:
    html = (await client.get("/docs")).text
    assert "url: '/openapi.json'" in html
    # Left on, Swagger UI would send the spec's address to validator.swagger.io.
    assert '"validatorUrl": null' in html
    assert (await client.get("/openapi.json")).status_code == 200


async def test_the_pages_keep_a_proxy_prefix(app: Any) -> None:
    transport = httpx.ASGITransport(app=app, root_path="/api")
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        swagger = (await http.get("/docs")).text
        redoc = (await http.get("/redoc")).text
    assert 'href="/api/docs/assets/swagger-ui.css"' in swagger
    assert "url: '/api/openapi.json'" in swagger
    assert 'src="/api/docs/assets/redoc.standalone.js"' in redoc


async def test_the_oauth2_redirect_page_is_served(client: httpx.AsyncClient) -> None:
    response = await client.get("/docs/oauth2-redirect")
    assert response.status_code == 200
    assert ABSOLUTE_URL.findall(response.text) == []
