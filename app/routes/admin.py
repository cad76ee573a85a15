"""Admin screens, scoped to the admin's départements: groups, users, events, imports."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request, Response, Router, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Template

from app.auth import loaded
from app.domain import admin, audit, reference
from app.policies import (
    AccountFacts,
    AdministeredAccountById,
    AdministeredGroupById,
    Viewer,
    can_delete_user,
    can_edit_group_structure,
    can_edit_user,
    can_manage_users,
    can_read_events,
    can_remove_user_from_group,
    policy,
)
from app.security import client_address
from app.tables import Group
from app.templating import redirect, render

MANAGE = policy(can_manage_users)
GROUP = AdministeredGroupById()
ACCOUNT = AdministeredAccountById()
STRUCTURE = policy(can_edit_group_structure, group=GROUP)
EDIT_USER = policy(can_edit_user, account=ACCOUNT)
# Routes that show the user page (with its "delete" button when it never served).
USER_PAGE = policy(can_edit_user, account=AdministeredAccountById(with_usage=True))


def _viewer(request: Request) -> Viewer:
    return request.scope["state"]["viewer"]


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {key: form.get(key) for key in form}


async def _not_found(request: Request, **ids: Any) -> NotFoundException:
    await audit.record(
        audit.Event.NOT_FOUND_IN_SCOPE,
        actor_id=_viewer(request).id,
        client_address=client_address(request.scope),
        **ids,
    )
    return NotFoundException()


async def _group(request: Request, group_id: UUID) -> Group:
    group = await admin.load_group(_viewer(request), group_id)
    if group is None:
        raise await _not_found(request, group_id=group_id)
    return group


def _page(request: Request) -> int:
    try:
        return max(1, int(request.query_params.get("page") or 1))
    except ValueError:
        return 1


# --- groups --------------------------------------------------------------------------------


@get("/admin", opt=MANAGE)
async def home(request: Request) -> Template:
    return render(request, "admin/home.html", {"title": "Administration"})


@get("/admin/groupes", opt=MANAGE)
async def groups_list(request: Request) -> Template:
    q = (request.query_params.get("q") or "").strip()
    rows = await admin.list_groups(_viewer(request), q)
    return render(request, "admin/groups.html", {"title": "Groupes", "rows": rows, "q": q})


def _group_form(
    request: Request, group: Group | None, values: dict, errors: dict, status_code: int = 200
) -> Template:
    return render(
        request,
        "admin/group_form.html",
        {
            "title": f"Groupe {group.name}" if group else "Nouveau groupe",
            "group": group,
            "values": values,
            "errors": errors,
            "organisations": reference.ORGANISATIONS,
        },
        status_code=status_code,
    )


@get("/admin/groupes/nouveau", opt=MANAGE)
async def group_new(request: Request) -> Template:
    areas = ", ".join(sorted(_viewer(request).admin_areas)[:1])
    return _group_form(request, None, {"areas_text": areas}, {})


@post("/admin/groupes", opt=MANAGE)
async def group_create(request: Request) -> Response:
    viewer = _viewer(request)
    values, errors = admin.clean_group(viewer, await _form(request))
    if errors:
        return _group_form(request, None, values, errors, status_code=422)
    group = await admin.save_group(
        viewer, None, values, client_address=client_address(request.scope)
    )
    return redirect(f"/admin/groupes/{group.id}", "Le groupe a été créé.")


@get("/admin/groupes/{group_id:uuid}", opt=STRUCTURE)
async def group_edit(request: Request, group_id: FromPath[UUID]) -> Template:
    group = loaded(request, "group")
    values = {name: getattr(group, name) or "" for name in admin.GROUP_FIELDS}
    values["areas_text"] = ", ".join(group.areas)
    return _group_form(request, group, values, {})


@post("/admin/groupes/{group_id:uuid}", opt=STRUCTURE)
async def group_update(request: Request, group_id: FromPath[UUID]) -> Response:
    viewer = _viewer(request)
    group = loaded(request, "group")
    values, errors = admin.clean_group(viewer, await _form(request), current=group)
    if errors:
        return _group_form(request, group, values, errors, status_code=422)
    await admin.save_group(viewer, group, values, client_address=client_address(request.scope))
    return redirect(f"/admin/groupes/{group.id}", "Le groupe a été enregistré.")


@post("/admin/groupes/{group_id:uuid}/suppression", opt=STRUCTURE)
async def group_delete(request: Request, group_id: FromPath[UUID]) -> Response:
    group = loaded(request, "group")
    refusal = await admin.delete_group(
        _viewer(request), group, client_address=client_address(request.scope)
    )
    if refusal:
        return redirect(f"/admin/groupes/{group.id}", refusal, level="error")
    return redirect("/admin/groupes", f"Le groupe « {group.name} » a été supprimé.")


# --- users ---------------------------------------------------------------------------------


@get("/admin/utilisateurs", opt=MANAGE)
async def users_list(request: Request) -> Template:
    q = (request.query_params.get("q") or "").strip()
    page = _page(request)
    rows, has_next = await admin.list_users(_viewer(request), q, page)
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
    viewer = _viewer(request)
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
    values, errors = admin.clean_user(await _form(request))
    if not errors:
        errors = await admin.save_user(
            _viewer(request), user, values, client_address=client_address(request.scope)
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
    data = await _form(request)
    try:
        group_id = UUID(data.get("group", ""))
    except ValueError:
        return redirect(f"/admin/utilisateurs/{user.id}", "Choisissez un groupe.", "error")
    group = await _group(request, group_id)
    await admin.add_user_to_group(
        _viewer(request),
        user,
        group,
        manager=data.get("is_manager") == "1",
        client_address=client_address(request.scope),
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
        _viewer(request), user, group, client_address=client_address(request.scope)
    )
    return redirect(f"/admin/utilisateurs/{user.id}", f"Retiré(e) du groupe « {group.name} ».")


@post("/admin/utilisateurs/{user_id:uuid}/perimetres", opt=USER_PAGE)
async def user_add_scope(request: Request, user_id: FromPath[UUID]) -> Response:
    viewer = _viewer(request)
    user, facts = await _user(request)
    values, errors = admin.clean_scope(viewer, await _form(request))
    if not errors:
        refusal = await admin.add_scope(
            viewer, user, values, client_address=client_address(request.scope)
        )
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
        _viewer(request), user, scope_id, client_address=client_address(request.scope)
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
    await admin.delete_user(_viewer(request), user, client_address=client_address(request.scope))
    return redirect("/admin/utilisateurs", "Le compte a été supprimé.")


# --- events log ----------------------------------------------------------------------------


@get("/admin/evenements", opt=policy(can_read_events))
async def events(request: Request) -> Template:
    filters = admin.parse_event_filters(dict(request.query_params))
    rows, has_next = ([], False)
    if not filters.errors:
        rows, has_next = await admin.list_events(_viewer(request), filters)
    params = {k: v for k, v in request.query_params.items() if k != "page" and v}
    return render(
        request,
        "admin/events.html",
        {
            "title": "Journal des événements",
            "rows": rows,
            "has_next": has_next,
            "filters": filters,
            "params": params,
            "codes": [e.value for e in audit.Event],
            "field_labels": admin.FIELD_LABELS,
        },
        status_code=422 if filters.errors else 200,
    )


# --- pre-registration and import ------------------------------------------------------------


@get("/admin/preinscription", opt=MANAGE)
async def preregistration(request: Request) -> Template:
    groups = await admin.list_groups(_viewer(request))
    return render(
        request,
        "admin/preregistration.html",
        {
            "title": "Pré-inscription d'aidants",
            "groups": groups,
            "text": "",
            "lines": None,
            "group_id": "",
            "error": None,
        },
    )


@post("/admin/preinscription", opt=MANAGE)
async def preregistration_post(request: Request) -> Response:
    viewer = _viewer(request)
    data = await _form(request)
    text = data.get("emails", "")
    groups = await admin.list_groups(viewer)
    group = None
    try:
        group = await admin.load_group(viewer, UUID(data.get("group", "")))
    except ValueError:
        pass
    context = {
        "title": "Pré-inscription d'aidants",
        "groups": groups,
        "text": text,
        "group_id": data.get("group", ""),
        "lines": None,
        "error": None,
    }
    if group is None:
        context["error"] = "Choisissez le groupe des aidants."
        return render(request, "admin/preregistration.html", context, status_code=422)
    if data.get("operation") == "confirmer":
        created, added = await admin.apply_preregistration(
            viewer, text, group, client_address=client_address(request.scope)
        )
        return redirect(
            "/admin/preinscription",
            f"{created} compte(s) créé(s), {added} compte(s) existant(s) ajouté(s) au groupe.",
        )
    context["lines"] = await admin.preregistration(text, group)
    return render(request, "admin/preregistration.html", context)


@get("/admin/import", opt=MANAGE)
async def import_form(request: Request) -> Template:
    return render(
        request,
        "admin/import.html",
        {
            "title": "Import de groupes et d'utilisateurs",
            "text": "",
            "lines": None,
            "error": None,
            "columns": admin.IMPORT_COLUMNS,
        },
    )


@post("/admin/import", opt=MANAGE)
async def import_post(request: Request) -> Response:
    viewer = _viewer(request)
    form = await request.form()
    text = form.get("csv") or ""
    upload = form.get("fichier")
    if upload is not None and hasattr(upload, "read"):
        content = await upload.read()
        if content:
            text = content.decode("utf-8-sig", errors="replace")
    context = {
        "title": "Import de groupes et d'utilisateurs",
        "text": text,
        "columns": admin.IMPORT_COLUMNS,
    }
    if form.get("operation") == "confirmer":
        lines, error, counts = await admin.apply_import(
            viewer, text, client_address=client_address(request.scope)
        )
        if error is None:
            return redirect(
                "/admin/import",
                f"Import terminé : {counts['groups']} groupe(s) créé(s), {counts['users']} "
                f"compte(s) créé(s), {counts['memberships']} appartenance(s).",
            )
    else:
        lines, error = await admin.review_import(viewer, text)
    context.update(lines=lines, error=error)
    invalid = error is not None or any(line.errors for line in lines)
    return render(request, "admin/import.html", context, status_code=422 if invalid else 200)


router = Router(
    path="",
    route_handlers=[
        home,
        groups_list,
        group_new,
        group_create,
        group_edit,
        group_update,
        group_delete,
        users_list,
        user_edit,
        user_update,
        user_add_group,
        user_remove_group,
        user_add_scope,
        user_remove_scope,
        user_delete,
        events,
        preregistration,
        preregistration_post,
        import_form,
        import_post,
    ],
)
