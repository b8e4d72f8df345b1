"""Headless Debian Chromium driven by Playwright (never `playwright install`: no downloads here)."""

import shutil

import pytest

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def chromium_browser():
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        pytest.fail("Debian's chromium is not installed (apt-get install chromium); .ci/run installs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium_browser, live_server):
    context = chromium_browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900})
    context.set_default_timeout(15000)
    pg = context.new_page()
    pg.base_url = live_server.url
    # Every page runs under the Content-Security-Policy production sends (config/settings/base.py): a
    # script, handler or style the policy refuses is reported on the console and fails the test.
    pg.csp_violations = []
    pg.on(
        "console",
        lambda message: "Content Security Policy" in message.text and pg.csp_violations.append(message.text),
    )
    yield pg
    context.close()
    assert not pg.csp_violations, f"Content-Security-Policy violations: {pg.csp_violations}"


def login(page, username: str, password: str = "Passw0rd-2026") -> None:
    page.goto(page.base_url + "/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(page.base_url + "/")
