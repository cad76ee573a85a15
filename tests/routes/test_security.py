"""Security headers everywhere, CSRF on every unsafe route, no inline code in templates."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
from litestar.routes import HTTPRoute
from piccolo.engine.postgres import PostgresEngine
from support.smtp import free_port

from app.routes import pages

TEMPLATES = Path(__file__).resolve().parents[2] / "app" / "templates"
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}

# Pages, error pages (unknown URL, method not allowed), JSON and static files.
HEADER_CASES = [
    ("GET", "/", 200),
    ("GET", "/sante", 200),
    ("GET", "/page-qui-n-existe-pas", 404),
    ("GET", "/demandes/00000000-0000-0000-0000-000000000000/inconnu", 404),
    ("POST", "/sante", 405),
    ("GET", "/static/css/app.css", 200),
    ("GET", "/static/absent.css", 404),
]


@pytest.mark.parametrize(("method", "path", "status"), HEADER_CASES)
async def test_security_headers_on_every_response(client, method, path, status):
    response = await client.request(method, path)

    assert response.status_code == status
    csp = response.headers.get("content-security-policy")
    assert csp, f"no Content-Security-Policy on {method} {path}"
    directives = {d.split()[0]: d.split()[1:] for d in csp.split(";") if d.strip()}
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["object-src"] == ["'none'"]
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"


def _unsafe_routes(app) -> list[tuple[str, str]]:
    found = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for method in sorted(set(route.methods) & UNSAFE):
            path = re.sub(r"\{[^}:]+:uuid\}", str(uuid.uuid4()), route.path)
            path = re.sub(r"\{[^}:]+:int\}", "1", path)
            path = re.sub(r"\{[^}:]+:[^}]+\}", "x", path)
            found.append((method, path))
    return found


def test_csrf_protection_covers_every_unsafe_route(app):
    config = app.csrf_config
    assert config is not None
    assert not config.exclude, "no path is exempted from CSRF"
    assert set(config.safe_methods) <= {"GET", "HEAD", "OPTIONS"}
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            assert not (handler.opt or {}).get("exclude_from_csrf"), handler


async def test_unsafe_requests_without_a_valid_csrf_token_are_refused(app, client):
    routes = _unsafe_routes(app)
    for method, path in routes:
        response = await client.request(method, path, data={"x": "1"})
        assert response.status_code == 403, f"{method} {path} accepted without a CSRF token"
        assert "Accès refusé" in response.text
        await client.csrf_token()
        forged = await client.request(method, path, data={"_csrf_token": "forged", "x": "1"})
        assert forged.status_code == 403, f"{method} {path} accepted a forged CSRF token"
    # Until forms exist, the one guaranteed unsafe request is refused too.
    response = await client.post("/", data={"x": "1"})
    assert response.status_code in (403, 405)


def test_every_form_posting_carries_the_csrf_input():
    for template in TEMPLATES.rglob("*.html"):
        source = template.read_text()
        for form in re.finditer(r"<form\b[^>]*>(.*?)</form>", source, flags=re.S | re.I):
            if re.search(r"method=[\"']?post", form.group(0), flags=re.I):
                assert "csrf_input" in form.group(1), f"{template}: POST form without csrf_input"


TAG = re.compile(r"<([a-zA-Z][a-zA-Z0-9-]*)((?:[^>{]|\{[^}]*\})*)>", flags=re.S)


def _violations(path: Path) -> list[str]:
    source = path.read_text()
    found = []
    is_email = "emails" in path.relative_to(TEMPLATES).parts
    for match in TAG.finditer(source):
        name, attributes = match.group(1).lower(), match.group(2)
        line = source.count("\n", 0, match.start()) + 1
        if name == "script" and not re.search(r"\bsrc\s*=", attributes):
            found.append(f"{path.name}:{line} inline <script>")
        # E-mails are read in mail clients, outside our CSP; scripts are still banned there.
        if name == "style" and not is_email:
            found.append(f"{path.name}:{line} <style>")
        if re.search(r"\sstyle\s*=", attributes) and not is_email:
            found.append(f"{path.name}:{line} style= attribute")
        if re.search(r"\shx-on", attributes):
            found.append(f"{path.name}:{line} hx-on attribute")
        if re.search(r"\son[a-z]+\s*=", attributes):
            found.append(f"{path.name}:{line} inline event handler")
        if re.search(r"javascript:", attributes, flags=re.I):
            found.append(f"{path.name}:{line} javascript: URL")
    return found


def test_no_template_contains_inline_script_or_style():
    templates = sorted(TEMPLATES.rglob("*.html"))
    assert len(templates) >= 3
    violations = [v for t in templates for v in _violations(t)]
    assert violations == [], "inline code breaks the strict CSP:\n" + "\n".join(violations)


def test_the_template_check_catches_inline_code():
    bad = TEMPLATES / "__probe__.html"
    try:
        bad.write_text(
            '<script>alert(1)</script>\n<style>p{}</style>\n<p style="x">\n'
            '<button hx-on:click="x">\n<a onclick="x" href="javascript:x">\n'
            '<script src="/static/x.js"></script>\n'
        )
        problems = _violations(bad)
    finally:
        bad.unlink()
    assert [p.split(" ", 1)[1] for p in problems] == [
        "inline <script>",
        "<style>",
        "style= attribute",
        "hx-on attribute",
        "inline event handler",
        "javascript: URL",
    ]


async def test_404_page_is_french_in_the_site_layout(client):
    response, page = await client.page("/cette-page-n-existe-pas")

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert page.html["lang"] == "fr"
    assert page.h1.get_text(strip=True) == "Page introuvable"
    assert "introuvable" in page.main.get_text()
    assert page.select_one("header.fr-header") is not None
    assert page.select_one("footer.fr-footer") is not None
    assert page.select_one('link[href="/static/vendor/dsfr/dsfr.min.css"]') is not None
    assert page.select_one("a.fr-btn[href='/']") is not None


async def test_health_reports_the_database(client):
    response = await client.get("/sante")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {"status": "ok", "database": "ok"}


@pytest.mark.filterwarnings("ignore::Warning:piccolo.engine.base")
async def test_health_answers_503_when_the_database_is_down(client, monkeypatch):
    dead = PostgresEngine(config={"dsn": f"postgresql://aplus@127.0.0.1:{free_port()}/aplus"})
    monkeypatch.setattr(pages, "DB", dead)

    response = await client.get("/sante")

    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "unreachable"}


async def test_pages_of_a_logged_in_user_are_never_cached(client, login):
    from factories import make_group, make_user

    anonymous = await client.get("/")
    assert anonymous.headers["cache-control"] == "no-cache"

    await login(await make_user(helper_in=[await make_group()]))
    response = await client.get("/")
    assert response.headers["cache-control"] == "no-store"


async def test_unrouted_404_does_not_offer_a_logged_in_user_to_log_in(client, db, login):
    from factories import make_group, make_user

    await login(await make_user(helper_in=[await make_group()]))
    response = await client.get("/nulle-part")
    assert response.status_code == 404
    assert "Page introuvable" in response.text
    assert "Se connecter" not in response.text
    client.cookies.clear()
    anonymous = await client.get("/nulle-part")
    assert anonymous.status_code == 404
    assert "Se connecter" in anonymous.text
