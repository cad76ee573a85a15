"""Login by magic link, logout, first-login CGU, and the profile."""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import quote

from litestar import Request, Response, Router, get, post
from litestar.datastructures import Cookie
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from app import clock, policies
from app.domain import audit, login, sessions
from app.domain.validators import (
    ValidationError,
    local_redirect_target,
    normalize_email,
    normalize_french_phone,
)
from app.policies import can_accept_cgu, can_edit_own_profile, can_log_out, policy, public
from app.security import client_address
from app.settings import get_settings
from app.tables import User
from app.templating import redirect, render

Event = audit.Event


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


@post("/connexion", opt=public())
async def login_request(request: Request) -> Response:
    form = await request.form()
    raw_email = str(form.get("email", ""))
    suivant = _next(str(form.get("suivant", "")))
    address = client_address(request.scope)
    try:
        email = normalize_email(raw_email)
    except ValidationError as exc:
        return render(
            request,
            "auth/login.html",
            {
                "email": raw_email,
                "suivant": suivant,
                "errors": {"email": str(exc)},
                "title": "Connexion",
            },
            fragment="auth/_login_panel.html",
            status_code=400,
        )
    result, user_id = await login.request_link(email, address, suivant)
    code = {
        login.LinkRequest.SENT: Event.LOGIN_LINK_REQUESTED,
        login.LinkRequest.UNKNOWN: Event.LOGIN_LINK_UNKNOWN_EMAIL,
        login.LinkRequest.DISABLED: Event.LOGIN_LINK_REFUSED_DISABLED,
        login.LinkRequest.RATE_LIMITED: Event.LOGIN_LINK_RATE_LIMITED,
    }[result]
    await audit.record(code, user_id=user_id, client_address=address)
    if result is login.LinkRequest.RATE_LIMITED:
        return render(
            request,
            "auth/login.html",
            {
                "email": raw_email,
                "suivant": suivant,
                "rate_limited": True,
                "errors": {},
                "title": "Connexion",
            },
            fragment="auth/_login_panel.html",
            status_code=429,
        )
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
    address = client_address(request.scope)
    check = await login.consume_link(token)
    if check.state is not login.LinkState.VALID:
        code = {
            login.LinkState.EXPIRED: Event.LOGIN_FAILED_EXPIRED,
            login.LinkState.USED: Event.LOGIN_FAILED_USED,
            login.LinkState.UNKNOWN: Event.LOGIN_FAILED_UNKNOWN,
        }[check.state]
        await audit.record(code, user_id=check.user_id, client_address=address)
        return _dead_link(request, token, check.state)
    user = await User.objects().where(User.id == check.user_id).first()
    if user is None or user.disabled_at is not None:
        await audit.record(
            Event.LOGIN_LINK_REFUSED_DISABLED, user_id=check.user_id, client_address=address
        )
        return _dead_link(request, token, login.LinkState.UNKNOWN)
    # A fresh session id at every login; any session this browser had is ended.
    old = request.cookies.get(sessions.SESSION_COOKIE)
    if old:
        await sessions.revoke_session(old)
    raw = await sessions.create_session(user.id)
    now = clock.now()
    updates = {User.last_seen_at: now}
    if user.first_login_at is None:
        updates[User.first_login_at] = now
    await User.update(updates).where(User.id == user.id)
    await audit.record(Event.LOGIN_SUCCEEDED, actor_id=user.id, client_address=address)
    target = _next(check.next_path)
    if target == "/":
        # No page asked for: each role's own home (the CGU come first when due).
        viewer = await sessions.build_viewer(user.to_dict())
        target = policies.landing_path(replace(viewer, has_accepted_cgu=True))
    if user.cgu_version != get_settings().cgu_version:
        target = f"/cgu?suivant={quote(target, safe='')}"
    response = redirect(target)
    response.cookies.append(_session_cookie(raw))
    return response


@post("/connexion/lien/{token:str}/nouveau", opt=public())
async def link_resend(request: Request, token: FromPath[str]) -> Response:
    result = await login.resend_for_link(token, client_address(request.scope))
    if result is login.LinkRequest.RATE_LIMITED:
        return render(
            request,
            "auth/login.html",
            {"email": "", "suivant": "/", "rate_limited": True, "errors": {}, "title": "Connexion"},
            status_code=429,
        )
    if result is login.LinkRequest.UNKNOWN:
        return redirect("/connexion")
    return redirect("/connexion/envoye")


@post("/deconnexion", opt=policy(can_log_out))
async def logout(request: Request) -> Response:
    raw = request.cookies.get(sessions.SESSION_COOKIE)
    if raw:
        await sessions.revoke_session(raw)
    viewer = request.scope["state"]["viewer"]
    await audit.record(
        Event.LOGOUT, actor_id=viewer.id, client_address=client_address(request.scope)
    )
    response = redirect("/", "Vous êtes déconnecté.")
    response.cookies.append(Cookie(key=sessions.SESSION_COOKIE, value="", path="/", max_age=0))
    return response


# --- CGU and profile ----------------------------------------------------------------------


def _identity_errors(form, collective: bool) -> tuple[dict, dict]:
    """Validated identity fields (names, qualité, phone) and the French errors."""
    values = {
        k: str(form.get(k, "")).strip() for k in ("first_name", "last_name", "qualite", "phone")
    }
    errors = {}
    for field, label in (("first_name", "votre prénom"), ("last_name", "votre nom")):
        if not values[field]:
            errors[field] = f"Indiquez {label}."
        elif len(values[field]) > 100:
            errors[field] = "100 caractères au maximum."
    if not values["qualite"]:
        errors["qualite"] = "Indiquez votre qualité (par exemple : conseillère France Services)."
    elif len(values["qualite"]) > 150:
        errors["qualite"] = "150 caractères au maximum."
    if collective:
        values["phone"] = ""
    elif not values["phone"]:
        errors["phone"] = "Indiquez un numéro de téléphone professionnel."
    else:
        try:
            values["phone"] = normalize_french_phone(values["phone"])
        except ValidationError as exc:
            errors["phone"] = str(exc)
    return values, errors


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
    values, errors = _identity_errors(form, user["is_collective"])
    if form.get("accepte") != "oui":
        errors["accepte"] = "Vous devez accepter les conditions générales d'utilisation."
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
    await User.update(
        {
            User.first_name: values["first_name"],
            User.last_name: values["last_name"],
            User.qualite: values["qualite"],
            User.phone: values["phone"],
            User.cgu_version: get_settings().cgu_version,
            User.cgu_accepted_at: clock.now(),
        }
    ).where(User.id == user["id"])
    await audit.record(
        Event.CGU_ACCEPTED, actor_id=user["id"], client_address=client_address(request.scope)
    )
    return redirect(suivant, "Merci, votre compte est prêt.")


@get("/profil", opt=policy(can_edit_own_profile))
async def profile_page(request: Request) -> Template:
    user = request.scope["state"]["user"]
    return render(
        request, "auth/profile.html", {"values": user, "errors": {}, "title": "Mon profil"}
    )


@post("/profil", opt=policy(can_edit_own_profile))
async def profile_save(request: Request) -> Response:
    user = request.scope["state"]["user"]
    form = await request.form()
    values, errors = _identity_errors(form, user["is_collective"])
    if errors:
        return render(
            request,
            "auth/profile.html",
            {"values": {**user, **values}, "errors": errors, "title": "Mon profil"},
            status_code=400,
        )
    changed = [
        name
        for name in ("first_name", "last_name", "qualite", "phone")
        if values[name] != user[name]
    ]
    if changed:
        await User.update({getattr(User, name): values[name] for name in changed}).where(
            User.id == user["id"]
        )
    await audit.record(
        Event.PROFILE_UPDATED,
        actor_id=user["id"],
        user_id=user["id"],
        client_address=client_address(request.scope),
        changed_fields=changed,
    )
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
