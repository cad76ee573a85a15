"""The base page and the error pages in a real browser: DSFR look, strict CSP, accessible."""

from __future__ import annotations

import asyncio
import json
import sys
import uuid

from playwright.async_api import expect
from support.browser import assert_accessible


async def test_home_page_in_the_dsfr_look_without_csp_violations(page):
    response = await page.goto("/")

    assert response.status == 200
    assert await page.title() == "Accueil — Administration+"
    font = await page.locator("header.fr-header").evaluate("e => getComputedStyle(e).fontFamily")
    assert font.startswith("Marianne"), font
    # The DSFR's JavaScript ran (it marks the document) and so did htmx, from our own origin.
    await page.wait_for_function("() => document.documentElement.hasAttribute('data-fr-js')")
    assert await page.evaluate("() => typeof window.htmx === 'object'")
    await assert_accessible(page)
    errors = [m for m in page.console_messages if m.startswith(("error", "pageerror"))]
    assert errors == []


async def test_home_page_without_javascript(page_nojs):
    response = await page_nojs.goto("/")

    assert response.status == 200
    assert await page_nojs.get_by_role("heading", level=1).inner_text() == "Administration+"
    await page_nojs.get_by_role("link", name="Se connecter").first.is_visible()
    await assert_accessible(page_nojs)


async def test_404_page_is_french_and_accessible(page):
    response = await page.goto("/cette-page-n-existe-pas")

    assert response.status == 404
    assert await page.get_by_role("heading", level=1).inner_text() == "Page introuvable"
    assert await page.locator("html").get_attribute("lang") == "fr"
    font = await page.locator("main").evaluate("e => getComputedStyle(e).fontFamily")
    assert font.startswith("Marianne"), font
    await assert_accessible(page)


async def test_health_answers_json(page):
    response = await page.goto("/sante")

    assert response.status == 200
    assert response.headers["content-type"].startswith("application/json")
    assert json.loads(await response.text()) == {"status": "ok", "database": "ok"}


async def test_the_audit_catches_violations(page):
    """The audit helper really fails: a page stripped of its language and h1 label is caught."""
    await page.goto("/")
    await page.evaluate("""() => {
        document.documentElement.removeAttribute('lang');
        const img = document.createElement('img');
        img.src = '/static/vendor/dsfr/favicon/favicon.svg';
        document.querySelector('main').appendChild(img);
    }""")
    try:
        await assert_accessible(page)
    except AssertionError as error:
        message = str(error)
    else:
        raise AssertionError("assert_accessible passed an inaccessible page")
    assert "html-has-lang" in message
    assert "image-alt" in message
    assert "main > div > img" in message or "img" in message


async def test_small_screens_reach_the_header_links(page, page_nojs):
    for p in (page, page_nojs):
        await p.set_viewport_size({"width": 375, "height": 740})
        await p.goto("/")
    # With JavaScript: the DSFR menu button opens a menu holding the header links. Until the
    # DSFR script has set its modal up, the page is styled as without JavaScript (menu shown
    # in place): wait for the closed menu rather than catching that first frame.
    login = page.locator("#menu-mobile").get_by_role("link", name="Se connecter")
    await expect(login).to_be_hidden()
    await page.get_by_role("button", name="Menu").click()
    await login.wait_for(state="visible")
    await assert_accessible(page)
    # Without JavaScript the menu cannot open: the links stay in the header.
    assert not await page_nojs.get_by_role("button", name="Menu").is_visible()
    assert (
        await page_nojs.locator(".fr-header__tools-links")
        .get_by_role("link", name="Se connecter")
        .is_visible()
    )
    await assert_accessible(page_nojs)


async def test_the_worker_sends_mail_to_the_catcher_listed_on_dev_mails(live_server, page):
    """The chain later journeys rely on: outbox, live worker, SMTP catcher, /dev/mails."""
    address = f"harnais.{uuid.uuid4().hex[:8]}@exemple.gouv.fr"
    script = (
        "import asyncio\n"
        "from app import emails\n"
        "from app.jobs import queue\n"
        "async def main():\n"
        f"    await emails.welcome({address!r})\n"
        "    await (await queue.get_queue()).disconnect()\n"
        "asyncio.run(main())\n"
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", script, env=live_server.env, stderr=asyncio.subprocess.PIPE
    )
    _, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, stderr.decode()

    [mail] = await live_server.wait_for_mail(address)
    assert mail["subject"].startswith("[A+] ")
    assert f"{live_server.url}/connexion" in mail["links"]

    await page.goto("/dev/mails")
    await page.get_by_role("heading", name=mail["subject"]).first.wait_for()
    await assert_accessible(page)
