"""Réponses types: their management on the group page, their insertion into a reply.

Without JavaScript every action is a plain form: a 303 to the group's "Réponses types" page
with a flash, or that page again with the error and what was typed. With htmx the section (or
the reply's textarea) is swapped in place. See docs/decisions/2026-12-02-canned-replies.md.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request, Response, Router, get, post
from litestar.params import FromPath
from litestar.response import Template

from app import policies
from app.auth import loaded
from app.domain import canned_replies, reference
from app.domain.canned_replies import CannedForm, CannedReply
from app.policies import (
    ApplicationById,
    CannedReplyOf,
    GroupById,
    can_answer,
    can_edit_canned_reply,
    can_manage_canned_replies,
    can_see_canned_replies,
    policy,
)
from app.routes.applications.page import max_body, page_context
from app.routes.common import address, current_viewer, error_status, not_found
from app.tables import Group
from app.templating import htmx_notice, redirect, render, wants_fragment

GROUP = GroupById()
REPLY = CannedReplyOf()
SECTION = "groups/_canned_replies.html"


async def section_context(
    viewer: policies.Viewer,
    group: Group,
    *,
    editing: UUID | None = None,
    edit_form: CannedForm | None = None,
    add_form: CannedForm | None = None,
    notice: str | None = None,
) -> dict[str, Any]:
    """What the "Réponses types" section of a group page shows (also the group page's)."""
    return {
        "group": group,
        "replies": await canned_replies.of_group(group.id),
        "can_manage": policies.can_manage_canned_replies(viewer, group),
        "editing": editing,
        "edit_form": edit_form or CannedForm(),
        "add_form": add_form or CannedForm(),
        "notice": notice,
        "max_per_group": canned_replies.MAX_PER_GROUP,
        "title_max": canned_replies.TITLE_MAX,
        "text_max": canned_replies.TEXT_MAX,
    }


def _page(request: Request, canned: dict, *, status_code: int = 200) -> Template:
    """The group's "Réponses types" page, or only its section for htmx."""
    return render(
        request,
        "groups/canned_replies.html",
        {"canned": canned, "title": f"Réponses types — {canned['group'].name}"},
        fragment=SECTION,
        status_code=status_code,
    )


def _done(request: Request, canned: dict) -> Response:
    if wants_fragment(request):
        return _page(request, canned)
    return redirect(f"/groupes/{canned['group'].id}/reponses-types#confirmation", canned["notice"])


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {key: form.get(key) for key in ("title", "text")}


# --- the group's list --------------------------------------------------------------------------


@get("/groupes/{group_id:uuid}/reponses-types", opt=policy(can_see_canned_replies, group=GROUP))
async def index(request: Request, group_id: FromPath[UUID]) -> Template:
    group = loaded(request, "group")
    return _page(request, await section_context(current_viewer(request), group))


@post(
    "/groupes/{group_id:uuid}/reponses-types",
    opt=policy(can_manage_canned_replies, group=GROUP),
)
async def create(request: Request, group_id: FromPath[UUID]) -> Response:
    group, viewer = loaded(request, "group"), current_viewer(request)
    form = await canned_replies.create(
        group.id, await _form(request), actor_id=viewer.id, client_address=address(request)
    )
    if form.errors:
        canned = await section_context(viewer, group, add_form=form)
        return _page(request, canned, status_code=error_status(request))
    notice = f"La réponse type « {form.values['title']} » a été ajoutée."
    return _done(request, await section_context(viewer, group, notice=notice))


EDIT = policy(can_edit_canned_reply, group=GROUP, reply=REPLY)


@get("/groupes/{group_id:uuid}/reponses-types/{reply_id:uuid}/edition", opt=EDIT)
async def edit(request: Request, group_id: FromPath[UUID], reply_id: FromPath[UUID]) -> Template:
    group, reply = loaded(request, "group"), loaded(request, "reply")
    form = CannedForm(values={"title": reply.title, "text": reply.text})
    canned = await section_context(current_viewer(request), group, editing=reply.id, edit_form=form)
    return _page(request, canned)


@post("/groupes/{group_id:uuid}/reponses-types/{reply_id:uuid}", opt=EDIT)
async def update(request: Request, group_id: FromPath[UUID], reply_id: FromPath[UUID]) -> Response:
    group, reply = loaded(request, "group"), loaded(request, "reply")
    viewer = current_viewer(request)
    form = await canned_replies.update(
        reply, await _form(request), actor_id=viewer.id, client_address=address(request)
    )
    if form.errors:
        canned = await section_context(viewer, group, editing=reply.id, edit_form=form)
        return _page(request, canned, status_code=error_status(request))
    notice = f"La réponse type « {form.values['title']} » a été enregistrée."
    return _done(request, await section_context(viewer, group, notice=notice))


@post("/groupes/{group_id:uuid}/reponses-types/{reply_id:uuid}/suppression", opt=EDIT)
async def delete(request: Request, group_id: FromPath[UUID], reply_id: FromPath[UUID]) -> Response:
    group, reply = loaded(request, "group"), loaded(request, "reply")
    viewer = current_viewer(request)
    await canned_replies.delete(reply, actor_id=viewer.id, client_address=address(request))
    notice = f"La réponse type « {reply.title} » a été supprimée."
    return _done(request, await section_context(viewer, group, notice=notice))


# --- insertion into a reply --------------------------------------------------------------------

# Everything the reply form holds but its files (a browser never sends a file back): the form
# comes back as it was, with the reply's text added to the message.
_DRAFT_FLAGS = ("irrelevant", "private", "processed")


def _draft(form: Any) -> dict[str, Any]:
    values: dict[str, Any] = {name: bool(form.get(name)) for name in _DRAFT_FLAGS}
    values["body"] = str(form.get("body") or "")
    values["signature"] = str(form.get("signature") or "").strip()
    for code, _label in reference.USAGER_OPTIONAL_FIELDS:
        values[f"field_{code}"] = str(form.get(f"field_{code}") or "").strip()
    return values


def _files_dropped(form: Any) -> bool:
    return any(getattr(upload, "filename", "") for upload in form.getall("files", []))


async def _chosen(request: Request, form: Any) -> CannedReply | None:
    """The reply picked in the select, only among the viewer's groups' (404 otherwise)."""
    raw = str(form.get("reponse_type") or "")
    if not raw:
        return None
    viewer = current_viewer(request)
    try:
        reply = await canned_replies.find(UUID(raw), viewer.group_ids)
    except ValueError:
        reply = None
    if reply is None:
        raise await not_found(request, application_id=loaded(request, "application").id)
    return reply


@post(
    "/demandes/{application_id:uuid}/reponses/modele",
    opt=policy(can_answer, application=ApplicationById()),
    # Without JavaScript the whole reply form comes along, its files included.
    request_max_body_size=max_body(),
    status_code=200,
)
async def insert(request: Request, application_id: FromPath[UUID]) -> Response:
    """The reply form again, its message holding the chosen reply's text at its end.

    A POST: the draft may name the usager, and a URL must never carry it.
    """
    facts, form = loaded(request, "application"), await request.form()
    reply = await _chosen(request, form)
    answer_form = _with_reply(_draft(form), reply, files_dropped=_files_dropped(form))
    status = 200 if reply or wants_fragment(request) else 422
    if wants_fragment(request):
        return await _inserted_fragment(request, facts.id, answer_form, reply, status)
    context = await page_context(request, facts, answer_form=answer_form)
    return render(request, "applications/show.html", context, status_code=status)


def _with_reply(values: dict, reply: CannedReply | None, *, files_dropped: bool) -> dict:
    """The reply form's state: the draft with the reply's text, or the select's error."""
    errors: dict[str, str] = {}
    if reply is None:
        errors["reponse_type"] = "Choisissez une réponse type dans la liste."
    else:
        values["body"] = canned_replies.insert(values["body"], reply.text)
    return {
        "values": values,
        "errors": errors,
        "inserted": reply.title if reply else None,
        "files_dropped": files_dropped,
        "open": True,
    }


async def _inserted_fragment(
    request: Request, application_id: UUID, answer_form: dict, reply, status: int
) -> Response:
    # htmx swaps the message only: the files chosen in the page stay where they are.
    answer_form["files_dropped"] = False
    context = {
        "answer_form": answer_form,
        "app": {"id": application_id},
        "canned_replies": await canned_replies.of_groups(current_viewer(request).group_ids),
    }
    response = render(request, "applications/_answer_body.html", context, status_code=status)
    if reply is None:
        return response
    return htmx_notice(response, f"Réponse type « {reply.title} » insérée dans le message.")


router = Router(path="", route_handlers=[index, create, edit, update, delete, insert])
