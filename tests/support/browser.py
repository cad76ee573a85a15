"""The live server for browser tests, and the accessibility audit any browser test calls."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # Without these, Chromium keeps calling home and floods the closed network.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE_SOURCE = (Path(__file__).resolve().parents[1] / "browser" / "vendor" / "axe.min.js").read_text()
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@dataclass
class LiveServer:
    """The web server and a worker in their own processes, on their own database."""

    url: str
    env: dict[str, str]
    logs: Path
    processes: list[subprocess.Popen] = field(default_factory=list)

    def get(self, path: str) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(self.url + path, timeout=5) as response:  # noqa: S310
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def mails(self) -> list[dict]:
        """What the mail catcher received, as /dev/mails.json lists it (newest first)."""
        status, body = self.get("/dev/mails.json")
        assert status == 200, status
        return json.loads(body)

    async def wait_for_mail(self, to: str, *, count: int = 1, within: float = 15) -> list[dict]:
        """The mails to `to` once at least `count` of them arrived (the worker sends them)."""
        deadline = time.monotonic() + within
        while True:
            found = [m for m in self.mails() if to in m["to"]]
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(f"no mail to {to} after {within}s; {self.tail_logs()}")
            await asyncio.sleep(0.2)

    async def wait_for_outbox_sent(self, *, within: float = 15) -> None:
        """Until the worker has sent every mail queued so far: `mails()` then shows them all.

        Requests write their mails to `outbox_email` before answering, so a mail that should
        not exist would be a row here, and sent like the others."""
        import asyncpg

        connection = await asyncpg.connect(self.env["DATABASE_URL"])
        try:
            deadline = time.monotonic() + within
            while await connection.fetchval(
                "SELECT count(*) FROM outbox_email WHERE sent_at IS NULL"
            ):
                if time.monotonic() > deadline:
                    raise AssertionError(f"mails still unsent after {within}s; {self.tail_logs()}")
                await asyncio.sleep(0.2)
        finally:
            await connection.close()

    def tail_logs(self) -> str:
        parts = []
        for log in sorted(self.logs.glob("*.log")):
            parts.append(f"--- {log.name}\n" + "\n".join(log.read_text().splitlines()[-30:]))
        return "\n".join(parts)


def run_step(args: list[str], env: dict[str, str], cwd: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=180,
    )
    if result.returncode != 0:
        pytest.fail(f"`aplus {' '.join(args)}` failed for the live server:\n{result.stderr}")


def start_live_server(
    *, root: Path, database_url: str, port: int, smtp_port: int, mail_dir: Path, workdir: Path
) -> LiveServer:
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "PYTHONPATH": str(root),
        # /dev/mails exists: development, with the catcher as the transport (as `aplus run`).
        "APLUS_ENV": "development",
        "APLUS_VAR_DIR": str(workdir / "var"),
        "DATABASE_URL": database_url,
        "SMTP_URL": "",
        "DEV_MAIL_PORT": str(smtp_port),
        "DEV_MAIL_DIR": str(mail_dir),
        "BASE_URL": url,
    }
    logs = workdir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    server = LiveServer(url=url, env=env, logs=logs)
    run_step(["migrate"], env, root)
    run_step(["seed", "demo"], env, root)
    for name, args in (("web", ["web", "--port", str(port)]), ("worker", ["worker"])):
        log = (logs / f"{name}.log").open("w")
        server.processes.append(
            subprocess.Popen(
                [sys.executable, "-m", "app.cli", *args],
                env=env,
                cwd=root,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
    deadline = time.monotonic() + 30
    while True:
        dead = [p for p in server.processes if p.poll() is not None]
        if dead:
            stop_live_server(server)
            pytest.fail(f"the live server stopped at startup:\n{server.tail_logs()}")
        try:
            if server.get("/sante")[0] == 200:
                return server
        except OSError:
            pass
        if time.monotonic() > deadline:
            stop_live_server(server)
            pytest.fail(f"the live server did not answer /sante within 30 s:\n{server.tail_logs()}")
        time.sleep(0.2)


def stop_live_server(server: LiveServer) -> None:
    for process in server.processes:
        if process.poll() is None:
            process.terminate()
    for process in server.processes:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def require_chromium() -> None:
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"{CHROMIUM} is missing: install it (apt-get install -y chromium); "
            "browser tests are part of the suite and are never skipped."
        )


def format_violations(url: str, violations: list[dict]) -> str:
    lines = [f"{len(violations)} accessibility violation(s) on {url}:"]
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']}")
        lines.append(f"  {violation['helpUrl']}")
        for node in violation["nodes"][:10]:
            lines.append(f"    at {', '.join(map(str, node['target']))}")
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            if summary:
                lines.append(f"       {summary[:300]}")
    return "\n".join(lines)


async def axe_violations(page) -> list[dict]:
    """Run axe-core in the page (through the debugging protocol: the CSP blocks inline code)."""
    if not await page.evaluate("() => typeof window.axe !== 'undefined'"):
        await page.evaluate(AXE_SOURCE)
    run = page.evaluate(
        """async (tags) => {
            // A menu or modal that is still fading in has mid-transition colours: audit the
            // page as the user reads it, once its CSS transitions have settled.
            const settling = document.getAnimations().filter(
                a => a.effect && a.effect.getTiming().iterations !== Infinity);
            await Promise.all(settling.map(a => a.finished.catch(() => null)));
            const r = await axe.run(document, {runOnly: {type: 'tag', values: tags},
                                               resultTypes: ['violations']});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                helpUrl: v.helpUrl,
                nodes: v.nodes.map(n => ({target: n.target, failureSummary: n.failureSummary}))}));
        }""",
        AXE_TAGS,
    )
    # evaluate() has no timeout of its own: a stuck audit fails instead of hanging the suite.
    return await asyncio.wait_for(run, 60)


async def assert_accessible(page) -> None:
    """Fail on any WCAG 2.1 A/AA violation axe finds on the page as it is now.

    axe needs timers, which do not run where JavaScript is disabled: such a page is audited by
    serving its very HTML again at the same URL, with the same cookies, in a context where
    JavaScript runs but the page's own scripts are blocked, so the DOM and CSS are those a user
    without JavaScript gets — also for the answer to a form post, which a GET would not give.
    """
    if await _scripts_run(page):
        violations = await axe_violations(page)
    else:
        violations = await _audit_without_page_scripts(page)
    assert violations == [], format_violations(page.url, violations)


async def _scripts_run(page) -> bool:
    try:
        await asyncio.wait_for(
            page.evaluate("() => new Promise(resolve => setTimeout(() => resolve(true), 0))"), 1
        )
    except TimeoutError:
        return False
    return True


async def _audit_without_page_scripts(page) -> list[dict]:
    html = await page.content()
    context = await page.context.browser.new_context()
    try:
        await context.add_cookies(await page.context.cookies())

        async def block_scripts(route):
            if route.request.resource_type == "script":
                await route.abort()
            elif (
                route.request.resource_type == "document"
                and route.request.url == page.url.split("#")[0]
            ):
                await route.fulfill(status=200, content_type="text/html; charset=utf-8", body=html)
            else:
                await route.continue_()

        await context.route("**/*", block_scripts)
        audited = await context.new_page()
        await audited.goto(page.url)
        return await axe_violations(audited)
    finally:
        await context.close()


def create_account(server: LiveServer, email: str, *roles: str, group: str | None = None) -> None:
    """A new account in the live database, through the real CLI (CGU not yet accepted)."""
    args = ["user", "create", "--email", email]
    for role in roles:
        args += ["--role", role]
    if group:
        args += ["--group", group]
    run_step(args, server.env, Path(__file__).resolve().parents[2])


async def login_link(server: LiveServer, email: str, *, count: int = 1) -> str:
    """The path of the newest login link mailed to `email`."""
    mails = await server.wait_for_mail(email, count=count)
    link = next(link for link in mails[0]["links"] if "/connexion/lien/" in link)
    return link.removeprefix(server.url)


async def log_in(page, server: LiveServer, email: str) -> None:
    """Log in through the real journey: request a link, open it from the mail, confirm."""
    already = len([m for m in server.mails() if email in m["to"]])
    await page.goto("/connexion")
    await page.get_by_label("Adresse e-mail professionnelle").fill(email)
    await page.get_by_role("button", name="Recevoir un lien de connexion").click()
    await page.get_by_text("Si cette adresse a un compte").wait_for()
    await page.goto(await login_link(server, email, count=already + 1))
    await page.get_by_role("button", name="Me connecter").click()
    await page.wait_for_load_state()


_SESSIONS: dict[tuple[str, str], list[dict]] = {}


async def log_in_once(page, server: LiveServer, email: str) -> None:
    """Log in through the real journey the first time, then reuse that session's cookie.

    Login links are rate-limited per address (5 per 10 minutes): tests that only need to be
    someone, not to test logging in, must not spend the demo accounts' quota.
    """
    key = (server.url, email)
    if key not in _SESSIONS:
        await log_in(page, server, email)
        _SESSIONS[key] = [c for c in await page.context.cookies() if c["name"] == "aplus_session"]
        assert _SESSIONS[key], "no session cookie after logging in"
        return
    await page.context.add_cookies(_SESSIONS[key])


async def accept_cgu(
    page, server: LiveServer, qualite: str, *, lands_on: str = "/demandes"
) -> None:
    """A new account's first login stops on the CGU: fill its profile, accept, land."""
    await page.wait_for_url("**/cgu**")
    await page.get_by_label("Qualité").fill(qualite)
    await page.get_by_label("Téléphone professionnel").fill("01 23 45 67 89")
    await page.locator("label[for=champ-accepte]").click()  # DSFR draws the box on the label
    await page.get_by_role("button", name="Accepter et continuer").click()
    await page.wait_for_url(server.url + lands_on)
