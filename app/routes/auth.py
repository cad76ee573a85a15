"""Login by magic link, logout, first-login CGU, and the profile."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar import Request, Response, Router, get, post
from litestar.datastructures import Cookie
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from app.domain import login, profile, sessions
from app.domain.validators import ValidationError, local_redirect_target, normalize_email
from app.policies import can_accept_cgu, can_edit_own_profile, can_log_out, policy, public
from app.routes.common import address, current_viewer
from app.settings import get_settings
from app.templating import redirect, render


def _session_cookie(raw: str) -> Cookie:
    settings = get_settings()
    return Cookie(
        key=sessions.SESSION_COOKIE,
        value=raw,
        path="/",
        httponly=True,
        secure=settings.uses_https,
        samesite="lax",
        max_age=settings.session_days * 86400,
    )


def _next(value: str | None) -> str:
    return local_redirect_target(value) or "/"


# --- login ------------------------------------------------------------------------------


@get("/connexion", opt=public())
async def login_page(request: Request, suivant: FromQuery[str | None] = None) -> Template:
    return render(
        request,
        "auth/login.html",
        {"email": "", "suivant": _next(suivant), "errors": {}, "title": "Connexion"},
    )


def _login_page(
    request: Request, email: str, suivant: str, *, fragment: bool = True, **state: Any
) -> Template:
    """The login form again: an error on the address (400) or the rate limit (429)."""
    return render(
        request,
        "auth/login.html",
        {"email": email, "suivant": suivant, "errors": {}, "title": "Connexion", **state},
        fragment="auth/_login_panel.html" if fragment else None,
        status_code=400 if state.get("errors") else 429,
    )


@post("/connexion", opt=public())
async def login_request(request: Request) -> Response:
    form = await request.form()
    raw_email = str(form.get("email", ""))
    suivant = _next(str(form.get("suivant", "")))
    try:
        email = normalize_email(raw_email)
    except ValidationError as exc:
        return _login_page(request, raw_email, suivant, errors={"email": str(exc)})
    result = await login.ask_for_link(email, address(request), suivant)
    if result is login.LinkRequest.RATE_LIMITED:
        return _login_page(request, raw_email, suivant, rate_limited=True)
    # The same answer whether or not the address has an account.
    if request.headers.get("hx-request"):
        return render(
            request,
            "auth/login_sent.html",
            {"title": "Vérifiez vos e-mails"},
            fragment="auth/_login_sent_panel.html",
        )
    return redirect("/connexion/envoye")


@get("/connexion/envoye", opt=public())
async def login_sent(request: Request) -> Template:
    return render(request, "auth/login_sent.html", {"title": "Vérifiez vos e-mails"})


@get("/connexion/lien/{token:str}", opt=public())
async def link_page(request: Request, token: FromPath[str]) -> Template:
    """A button page: only its POST logs in, so mail scanners pre-fetching links consume nothing."""
    check = await login.check_link(token)
    if check.state is not login.LinkState.VALID:
        return _dead_link(request, token, check.state)
    return render(request, "auth/confirm.html", {"token": token, "title": "Connexion"})


def _dead_link(request: Request, token: str, state: login.LinkState) -> Template:
    return render(
        request,
        "auth/dead_link.html",
        {"token": token, "state": state.value, "title": "Lien de connexion invalide"},
        status_code=410 if state is not login.LinkState.UNKNOWN else 404,
    )


@post("/connexion/lien/{token:str}", opt=public())
async def link_confirm(request: Request, token: FromPath[str]) -> Response:
    old = request.cookies.get(sessions.SESSION_COOKIE)
    done = await login.log_in(token, old, address(request))
    if done.session is None:
        return _dead_link(request, token, done.state)
    response = redirect(done.target)
    response.cookies.append(_session_cookie(done.session))
    return response


@post("/connexion/lien/{token:str}/nouveau", opt=public())
async def link_resend(request: Request, token: FromPath[str]) -> Response:
    result = await login.resend_for_link(token, address(request))
    if result is login.LinkRequest.RATE_LIMITED:
        return _login_page(request, "", "/", fragment=False, rate_limited=True)
    if result is login.LinkRequest.UNKNOWN:
        return redirect("/connexion")
    return redirect("/connexion/envoye")


@post("/deconnexion", opt=policy(can_log_out))
async def logout(request: Request) -> Response:
    await login.log_out(
        request.cookies.get(sessions.SESSION_COOKIE),
        current_viewer(request).id,
        client_address=address(request),
    )
    response = redirect("/", "Vous êtes déconnecté.")
    response.cookies.append(Cookie(key=sessions.SESSION_COOKIE, value="", path="/", max_age=0))
    return response


# --- CGU and profile ----------------------------------------------------------------------


@get("/cgu/texte", opt=public())
async def cgu_text(request: Request) -> Template:
    return render(request, "auth/cgu_text.html", {"title": "Conditions générales d'utilisation"})


@get("/cgu", opt=policy(can_accept_cgu))
async def cgu_page(request: Request, suivant: FromQuery[str | None] = None) -> Template:
    user = request.scope["state"]["user"]
    return render(
        request,
        "auth/cgu.html",
        {
            "values": user,
            "errors": {},
            "suivant": _next(suivant),
            "title": "Bienvenue sur Administration+",
        },
    )


@post("/cgu", opt=policy(can_accept_cgu))
async def cgu_accept(request: Request) -> Response:
    user = request.scope["state"]["user"]
    form = await request.form()
    suivant = _next(str(form.get("suivant", "")))
    values, errors = profile.check_cgu(form, user)
    if errors:
        return render(
            request,
            "auth/cgu.html",
            {
                "values": {**user, **values, "accepte": form.get("accepte")},
                "errors": errors,
                "suivant": suivant,
                "title": "Bienvenue sur Administration+",
            },
            status_code=400,
        )
    await profile.accept_cgu(user, values, client_address=address(request))
    return redirect(suivant, "Merci, votre compte est prêt.")


def _profile(request: Request, values: dict, errors: dict, status_code: int = 200) -> Template:
    return render(
        request,
        "auth/profile.html",
        {
            "values": values,
            "errors": errors,
            "frequencies": profile.FREQUENCIES,
            "title": "Mon profil",
        },
        status_code=status_code,
    )


@get("/profil", opt=policy(can_edit_own_profile))
async def profile_page(request: Request) -> Template:
    return _profile(request, request.scope["state"]["user"], {})


@post("/profil", opt=policy(can_edit_own_profile))
async def profile_save(request: Request) -> Response:
    user = request.scope["state"]["user"]
    values, errors = profile.check_profile(await request.form(), user)
    if errors:
        return _profile(request, {**user, **values}, errors, status_code=400)
    await profile.save_profile(user, values, client_address=address(request))
    return redirect("/profil", "Votre profil est enregistré.")


def login_url(next_path: str) -> str:
    return f"/connexion?suivant={quote(next_path, safe='')}"


router = Router(
    path="",
    route_handlers=[
        login_page,
        login_request,
        login_sent,
        link_page,
        link_confirm,
        link_resend,
        logout,
        cgu_text,
        cgu_page,
        cgu_accept,
        profile_page,
        profile_save,
    ],
)
