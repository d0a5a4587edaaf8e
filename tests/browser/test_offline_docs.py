"""Offline docs (issue 14): Chromium renders /docs and /redoc with every other host
unreachable, and the pages ask for none.

Runs when a `chromium` is on PATH (Debian's package; .ci/run installs it), driven by the
playwright package, which never downloads a browser here. Without one, the module is
skipped with one line in the `-ra` summary."""

import asyncio
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from app.core.config import Settings
from app.main import create_app
from tests.databases import PostgresDatabases, SqliteDatabases
from tests.live_server import serve

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None:
    pytest.skip(
        "Browser tests skipped: no chromium on PATH (apt-get install chromium)",
        allow_module_level=True,
    )

from playwright.sync_api import Page, Request, Route, sync_playwright  # noqa: E402

# A name that is not localhost: Swagger UI treats localhost specially (no validator badge),
# and production is never served there.
HOST = "docs.vocation.test"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def base_url(
    databases: SqliteDatabases | PostgresDatabases, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    url = databases.fresh()
    asyncio.run(databases.clean(url))
    settings = Settings(
        database_url=url, upload_dir=tmp_path_factory.mktemp("uploads"), allowed_hosts=[HOST]
    )
    with serve(create_app(settings)) as served:
        yield served


@dataclass
class Traffic:
    """What the page asked of the world: requests that reached the network layer for
    another host (aborted there), and loads the browser refused itself (CSP)."""

    outside: list[str] = field(default_factory=list)
    refused_by_policy: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)


@pytest.fixture
def browser_page(base_url: str) -> Iterator[tuple[Page, Traffic]]:
    port = urlsplit(base_url).port
    traffic = Traffic()

    def only_ours(route: Route) -> None:
        target = urlsplit(route.request.url)
        if target.hostname == HOST and target.port == port:
            route.continue_()
        else:
            traffic.outside.append(route.request.url)
            route.abort("blockedbyclient")

    def on_failure(request: Request) -> None:
        if request.failure == "csp":
            traffic.refused_by_policy.append(request.url)
        elif request.url not in traffic.outside:
            traffic.failed.append(f"{request.url}: {request.failure}")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                # The network is closed: only our name resolves, to the test server.
                f"--host-resolver-rules=MAP {HOST} 127.0.0.1, MAP * ~NOTFOUND",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-sandbox",  # CI runs as root, where Chromium's sandbox refuses to start.
            ],
        )
        try:
            context = browser.new_context(base_url=f"http://{HOST}:{port}")
            context.route("**/*", only_ours)
            page = context.new_page()
            page.on("requestfailed", on_failure)
            page.on(
                "console",
                lambda message: (
                    traffic.console_errors.append(message.text) if message.type == "error" else None
                ),
            )
            yield page, traffic
        finally:
            browser.close()


def _screenshot(page: Page, path: Path) -> None:
    page.screenshot(path=path, full_page=True)
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    assert len(data) > 10_000  # a rendered page, not a blank one


def test_swagger_ui_lists_the_operations_offline(
    browser_page: tuple[Page, Traffic], tmp_path: Path
) -> None:
    page, traffic = browser_page
    page.goto("/docs")
    page.wait_for_selector('.opblock-summary-path[data-path="/v1/offers"]', timeout=30_000)
    _screenshot(page, tmp_path / "docs.png")

    text = page.inner_text("#swagger-ui")
    assert "/v1/offers" in text
    assert "List and search published offers" in text
    assert page.locator(".opblock").count() > 20
    assert traffic == Traffic()


def test_redoc_lists_the_operations_offline(
    browser_page: tuple[Page, Traffic], tmp_path: Path
) -> None:
    page, traffic = browser_page
    page.goto("/redoc")
    summary = page.locator("h2", has_text="List and search published offers")
    summary.wait_for(timeout=30_000)
    _screenshot(page, tmp_path / "redoc.png")

    assert "/v1/offers" in page.content()
    assert traffic.outside == []
    assert traffic.failed == []
    # ReDoc's footer logo is on cdn.redoc.ly; the page's policy keeps the browser from
    # asking for it (ReDoc then hides the image).
    assert set(traffic.refused_by_policy) <= {"https://cdn.redoc.ly/redoc/logo-mini.svg"}
