"""Forgetting is impossible: every route is public or declares its rule; docs list every rule."""

import re
from pathlib import Path

from app import policies

ROOT = Path(__file__).resolve().parents[2]


def all_handlers(app):
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            # Litestar's automatic OPTIONS answers carry no content.
            if handler.http_methods == {"OPTIONS"} and handler.handler_name == "options_handler":
                continue
            yield route.path, handler


def test_every_route_is_public_or_declares_a_known_rule(app):
    offenders = []
    for path, handler in all_handlers(app):
        opt = handler.opt or {}
        if opt.get("public"):
            continue
        if opt.get("policy") not in policies.ROUTE_RULES:
            offenders.append(f"{path} ({handler.handler_name})")
    assert not offenders, "routes without a policy: " + ", ".join(offenders)


def test_the_walk_sees_the_routes(app):
    paths = {path for path, _ in all_handlers(app)}
    assert {"/", "/sante", "/connexion", "/profil", "/cgu", "/deconnexion"} <= paths


def test_public_routes_are_the_expected_list(app):
    public = sorted({path for path, h in all_handlers(app) if (h.opt or {}).get("public")})
    allowed = re.compile(
        r"^(/|/sante|/static.*|/connexion.*|/cgu/texte|/dev/.*|/statistiques/publiques.*"
        r"|/accessibilite|/mentions-legales|/donnees-personnelles)$"
    )
    assert [p for p in public if not allowed.match(p)] == []


def test_every_rule_is_documented_in_authorization_md():
    doc = (ROOT / "docs" / "authorization.md").read_text()
    missing = [name for name in policies.all_rule_names() if f"`{name}`" not in doc]
    assert not missing, f"rules missing from docs/authorization.md: {missing}"


async def test_every_post_route_refuses_a_request_without_csrf_token(app, client, login, db):
    from factories import make_group, make_user

    await login(await make_user(helper_in=[await make_group()], admin=True))
    posts = sorted({path for path, h in all_handlers(app) if "POST" in (h.http_methods or set())})
    assert posts
    for path in posts:
        concrete = re.sub(r"\{[^}]+\}", "00000000-0000-0000-0000-000000000000", path)
        response = await client.post(concrete, data={"x": "1"})
        assert response.status_code == 403, f"{path} accepted a POST without CSRF token"
