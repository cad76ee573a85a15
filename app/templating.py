"""Jinja set-up, the page-or-fragment render helper and flash messages."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment
from litestar import Request, Response
from litestar.datastructures import Cookie
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect, Template
from litestar.template.config import TemplateConfig
from markupsafe import Markup

from app import formatting, policies
from app.domain import reference
from app.domain.application_forms import SHARED_ACCOUNT_SIGNATURE
from app.settings import get_settings

TEMPLATES_DIR = Path(__file__).parent / "templates"
FLASH_COOKIE = "aplus_flash"


def display_name(person: Any) -> str:
    """A person's name as shown in lists and labels, their e-mail when they gave no name."""
    get = person.get if isinstance(person, dict) else lambda key: getattr(person, key, "")
    return f"{get('first_name') or ''} {get('last_name') or ''}".strip() or get("email") or ""


class Fields(dict):
    """A dict whose keys templates read on the first try.

    Jinja resolves `e.body` with getattr first and only then `e["body"]`: on a plain dict the
    failed getattr raises and catches an AttributeError for every field, which dominated the
    rendering of long threads. Dict methods keep precedence, as with a plain dict.
    """

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def _departement_options(env: Environment) -> Callable[[str], Markup]:
    """The département picker's options, each of the ~100 variants rendered once (a long
    loop of reference data on every demande page otherwise); every render while templates
    may change (development)."""

    def render(selected: str) -> Markup:
        html = env.get_template("applications/_departement_options.html").render(
            departements=reference.DEPARTEMENTS, selected=selected
        )
        return Markup(html.rstrip("\n"))

    if env.auto_reload:
        return render
    return lru_cache(maxsize=None)(render)


def _configure(engine: JinjaTemplateEngine) -> None:
    env = engine.engine
    env.filters["display_name"] = display_name
    env.filters["pourcent"] = formatting.percent
    env.filters["jours_ouvres"] = formatting.business_days
    env.filters["mois"] = formatting.month_fr
    env.globals["settings"] = get_settings()
    env.globals["policies"] = policies
    env.globals["shared_account_signature"] = SHARED_ACCOUNT_SIGNATURE
    env.trim_blocks = True
    env.lstrip_blocks = True
    # Templates only change with a deployment: no stat() of each one at every render.
    env.auto_reload = not get_settings().is_production
    env.globals["departement_options"] = _departement_options(env)


def template_config() -> TemplateConfig:
    return TemplateConfig(
        directory=TEMPLATES_DIR, engine=JinjaTemplateEngine, engine_callback=_configure
    )


def _read_flashes(request: Request) -> list[dict[str, str]]:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return []
    try:
        data = json.loads(base64.urlsafe_b64decode(raw.encode()).decode())
    except ValueError:
        return []
    if not isinstance(data, list):  # a forged or damaged cookie: no message, no error
        return []
    return [
        {"level": str(item.get("level", "info")), "message": str(item.get("message", ""))}
        for item in data
        if isinstance(item, dict)
    ][:5]


def wants_fragment(request: Request) -> bool:
    """htmx asked for a part of the page (a history restore wants the whole page)."""
    return bool(request.headers.get("hx-request")) and not request.headers.get(
        "hx-history-restore-request"
    )


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    fragment: str | None = None,
    status_code: int = 200,
) -> Template:
    """Render the full page, or only `fragment` (the partial the page includes) for htmx."""
    context = dict(context or {})
    context.setdefault("request", request)
    context.setdefault("viewer", request.scope.get("state", {}).get("viewer"))
    context.setdefault("user", request.scope.get("state", {}).get("user"))
    context["flashes"] = _read_flashes(request)
    cookies = []
    if context["flashes"]:
        cookies.append(Cookie(key=FLASH_COOKIE, value="", max_age=0, path="/"))
    name = fragment if fragment and wants_fragment(request) else template
    return Template(template_name=name, context=context, status_code=status_code, cookies=cookies)


def flash_cookie(message: str, level: str = "success") -> Cookie:
    """A one-shot message shown by the next rendered page (after a 303)."""
    value = base64.urlsafe_b64encode(
        json.dumps([{"level": level, "message": message}]).encode()
    ).decode()
    return Cookie(
        key=FLASH_COOKIE,
        value=value,
        path="/",
        httponly=True,
        samesite="lax",
        secure=get_settings().uses_https,
        max_age=120,
    )


def htmx_notice(response: Template, message: str) -> Template:
    """Confirm an htmx swap that cannot carry the message itself (a table row cannot hold an
    out-of-band element): app.js puts it in the page's live region (#messages) and focuses it.
    JSON with ASCII escapes: header values are not UTF-8."""
    response.headers["HX-Trigger"] = json.dumps({"aplusNotice": message})
    return response


def redirect(path: str, message: str | None = None, level: str = "success") -> Response:
    """303 to a local path, with an optional flash message."""
    cookies = [flash_cookie(message, level)] if message else []
    return Redirect(path=path, status_code=303, cookies=cookies)
