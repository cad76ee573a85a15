"""Browser tests: a live server in its own processes and database, async Playwright on the
system Chromium. Everything costly is session-scoped; each test gets fresh pages."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from playwright.async_api import async_playwright
from support.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    LiveServer,
    require_chromium,
    start_live_server,
    stop_live_server,
)
from support.smtp import free_port
from support.testenv import LIVE_DATABASE_URL, ROOT

from app.devmail import start_catcher

CSP_VIOLATION = "Content Security Policy"


@pytest.fixture(scope="session")
def live_server() -> LiveServer:
    """`aplus migrate`, `aplus seed demo`, then `aplus web` and `aplus worker` on LIVE_DATABASE_URL,
    sending mail to a real catcher whose captures /dev/mails.json lists.

    The processes cannot see a test's transaction: tests share this database, so they create
    what they need with unique names rather than expect an empty one.
    """
    workdir = Path(tempfile.mkdtemp(prefix="aplus-live-"))
    mail_dir = workdir / "mails"
    catcher = start_catcher(mail_dir)
    try:
        server = start_live_server(
            root=ROOT,
            database_url=LIVE_DATABASE_URL,
            port=free_port(),
            smtp_port=catcher.port,
            mail_dir=mail_dir,
            workdir=workdir,
        )
        try:
            yield server
        finally:
            stop_live_server(server)
    finally:
        catcher.stop()


@pytest.fixture(scope="session")
async def browser():
    require_chromium()
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        await chromium.close()


async def _new_page(browser, live_server, **options):
    context = await browser.new_context(base_url=live_server.url, locale="fr-FR", **options)
    page = await context.new_page()
    page.set_default_timeout(10_000)
    messages: list[str] = []
    page.on("console", lambda message: messages.append(f"{message.type}: {message.text}"))
    page.on("pageerror", lambda error: messages.append(f"pageerror: {error}"))
    return context, page, messages


def _fail_on_csp_violations(messages: list[str]) -> None:
    violations = [m for m in messages if CSP_VIOLATION in m]
    assert violations == [], "the page broke the Content-Security-Policy:\n" + "\n".join(violations)


@pytest.fixture
async def page(browser, live_server):
    """A page with JavaScript on, in a fresh context (no cookies); fails on CSP violations."""
    context, page, messages = await _new_page(browser, live_server)
    page.console_messages = messages
    yield page
    await context.close()
    _fail_on_csp_violations(messages)


@pytest.fixture
async def page_nojs(browser, live_server):
    """A page with JavaScript off: what a user of an old or locked-down browser gets."""
    context, page, messages = await _new_page(browser, live_server, java_script_enabled=False)
    page.console_messages = messages
    yield page
    await context.close()
    _fail_on_csp_violations(messages)


@pytest.fixture
async def open_page(browser, live_server):
    """A factory of pages, each in its own context (one per person of a journey); every page
    fails the test on CSP violations, like `page`."""
    opened = []

    async def open_(*, javascript: bool = True):
        options = {} if javascript else {"java_script_enabled": False}
        context, page, messages = await _new_page(browser, live_server, **options)
        page.console_messages = messages
        opened.append((context, messages))
        return page

    yield open_
    for context, _messages in opened:
        await context.close()
    for _context, messages in opened:
        _fail_on_csp_violations(messages)
