"""Admin: the accounts of the admin's départements, their groups and their scopes."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Template

from app.auth import loaded
from app.domain import admin, reference
from app.policies import (
    AccountFacts,
    AdministeredAccountById,
    can_delete_user,
    can_remove_user_from_group,
    policy,
)
from app.routes.admin.shared import (
    ACCOUNT,
    EDIT_USER,
    GROUP,
    MANAGE,
    USER_PAGE,
    administered_group,
    page_of,
)
from app.routes.common import address, current_viewer, form_dict
from app.templating import redirect, render


@get("/admin/utilisateurs", opt=MANAGE)
async def users_list(request: Request) -> Template:
    q = (request.query_params.get("q") or "").strip()
    page = page_of(request)
    rows, has_next = await admin.list_users(current_viewer(request), q, page)
    return render(
        request,
        "admin/users.html",
        {"title": "Utilisateurs", "rows": rows, "q": q, "page": page, "has_next": has_next},
    )


async def _user(request: Request):
    """The account the guard loaded (`AdministeredAccountById`): its row and its facts."""
    facts: AccountFacts = loaded(request, "account")
    return await admin.get_user(facts.id), facts


async def _user_form(
    request: Request,
    user,
    facts: AccountFacts,
    values: dict,
    errors: dict,
    status_code: int = 200,
    *,
    scope_values: dict | None = None,
    scope_errors: dict | None = None,
) -> Template:
    viewer = current_viewer(request)
    return render(
        request,
        "admin/user_form.html",
        {
            "title": f"Utilisateur {user.email}",
            "account": user,
            "facts": facts,
            "values": values,
            "errors": errors,
            "memberships": await admin.user_memberships(user.id),
            "groups": await admin.list_groups(viewer),
            "scopes": await admin.user_scopes(user.id),
            "scope_choices": {
                "role": list(admin.SCOPE_ROLES.items()),
                "organisation": [(o.code, o.short_name) for o in reference.ORGANISATIONS],
                "area": [
                    (code, reference.departement(code).label) for code in sorted(viewer.admin_areas)
                ],
            },
            "scope_values": scope_values or {},
            "scope_errors": scope_errors or {},
        },
        status_code=status_code,
    )


def _user_values(user) -> dict[str, Any]:
    values = {name: getattr(user, name) for name in (*admin.USER_FIELDS, "email")}
    values["disabled"] = user.disabled_at is not None
    return values


@get("/admin/utilisateurs/{user_id:uuid}", opt=USER_PAGE)
async def user_edit(request: Request, user_id: FromPath[UUID]) -> Template:
    user, facts = await _user(request)
    return await _user_form(request, user, facts, _user_values(user), {})


@post("/admin/utilisateurs/{user_id:uuid}", opt=USER_PAGE)
async def user_update(request: Request, user_id: FromPath[UUID]) -> Response:
    user, facts = await _user(request)
    values, errors = admin.clean_user(await form_dict(request))
    if not errors:
        errors = await admin.save_user(
            current_viewer(request), user, values, client_address=address(request)
        )
    if errors:
        return await _user_form(request, user, facts, values, errors, status_code=422)
    message = "L'utilisateur a été enregistré."
    if values["email"] != user.email:
        message += " Ses sessions ont été fermées et il devra accepter à nouveau les CGU."
    return redirect(f"/admin/utilisateurs/{user.id}", message)


@post("/admin/utilisateurs/{user_id:uuid}/groupes", opt=EDIT_USER)
async def user_add_group(request: Request, user_id: FromPath[UUID]) -> Response:
    user, _ = await _user(request)
    data = await form_dict(request)
    try:
        group_id = UUID(data.get("group", ""))
    except ValueError:
        return redirect(f"/admin/utilisateurs/{user.id}", "Choisissez un groupe.", "error")
    group = await administered_group(request, group_id)
    await admin.add_user_to_group(
        current_viewer(request),
        user,
        group,
        manager=data.get("is_manager") == "1",
        client_address=address(request),
    )
    return redirect(f"/admin/utilisateurs/{user.id}", f"Ajouté(e) au groupe « {group.name} ».")


@post(
    "/admin/utilisateurs/{user_id:uuid}/groupes/{group_id:uuid}/retrait",
    opt=policy(can_remove_user_from_group, account=ACCOUNT, group=GROUP),
)
async def user_remove_group(
    request: Request, user_id: FromPath[UUID], group_id: FromPath[UUID]
) -> Response:
    user, _ = await _user(request)
    group = loaded(request, "group")
    await admin.remove_user_from_group(
        current_viewer(request), user, group, client_address=address(request)
    )
    return redirect(f"/admin/utilisateurs/{user.id}", f"Retiré(e) du groupe « {group.name} ».")


@post("/admin/utilisateurs/{user_id:uuid}/perimetres", opt=USER_PAGE)
async def user_add_scope(request: Request, user_id: FromPath[UUID]) -> Response:
    viewer = current_viewer(request)
    user, facts = await _user(request)
    values, errors = admin.clean_scope(viewer, await form_dict(request))
    if not errors:
        refusal = await admin.add_scope(viewer, user, values, client_address=address(request))
        if refusal:
            errors["role"] = refusal
    if errors:
        return await _user_form(
            request,
            user,
            facts,
            _user_values(user),
            {},
            422,
            scope_values=values,
            scope_errors=errors,
        )
    return redirect(f"/admin/utilisateurs/{user.id}#perimetres", "Le périmètre a été ajouté.")


@post("/admin/utilisateurs/{user_id:uuid}/perimetres/{scope_id:uuid}/retrait", opt=EDIT_USER)
async def user_remove_scope(
    request: Request, user_id: FromPath[UUID], scope_id: FromPath[UUID]
) -> Response:
    user, _ = await _user(request)
    refusal = await admin.remove_scope(
        current_viewer(request), user, scope_id, client_address=address(request)
    )
    if refusal:
        return redirect(f"/admin/utilisateurs/{user.id}#perimetres", refusal, level="error")
    return redirect(f"/admin/utilisateurs/{user.id}#perimetres", "Le périmètre a été retiré.")


@post(
    "/admin/utilisateurs/{user_id:uuid}/suppression",
    opt=policy(can_delete_user, account=AdministeredAccountById(with_usage=True)),
)
async def user_delete(request: Request, user_id: FromPath[UUID]) -> Response:
    user, _ = await _user(request)
    await admin.delete_user(current_viewer(request), user, client_address=address(request))
    return redirect("/admin/utilisateurs", "Le compte a été supprimé.")
