"""What a person does on a demande, each change one transaction with its traces.

A handler checks the form (application_forms.py, answer_forms.py), then calls one function
here: it opens the transaction, makes the change, stores the files, writes the audit events and
queues the e-mails, so all of it commits or none does (docs/architecture.md). Reads worth a
trace (a demande opened, a file downloaded) are recorded here too.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

from asyncpg.exceptions import UniqueViolationError
from piccolo.querystring import QueryString

from app import clock, notifications, policies
from app.domain import applications, audit, files
from app.piccolo_conf import DB
from app.policies import ApplicationFacts, Viewer
from app.tables import Answer, Application, Attachment, User

Event = audit.Event


async def acting_user(viewer: Viewer) -> User:
    return await User.objects().where(User.id == viewer.id).first()


async def _record(
    event: Event, viewer: Viewer, application_id: UUID, client_address: str, **ids: UUID
) -> None:
    await audit.record(
        event,
        actor_id=viewer.id,
        application_id=application_id,
        client_address=client_address,
        **ids,
    )


async def _record_with_files(
    viewer: Viewer,
    event: Event,
    checked_files: list[files.CheckedFile],
    *,
    application_id: UUID,
    answer_id: UUID | None,
    client_address: str,
) -> None:
    """The files stored (each one an audit line), then the change's own audit line."""
    for checked in checked_files:
        attachment = await files.store(
            checked, application_id=application_id, uploader_id=viewer.id, answer_id=answer_id
        )
        await _record(
            Event.FILE_UPLOADED, viewer, application_id, client_address, file_id=attachment.id
        )
    await _record(event, viewer, application_id, client_address)


async def earlier_submission(viewer: Viewer, creation_key: str) -> Application | None:
    """The demande this viewer already created with this form (a double submission)."""
    existing = await applications.find_by_creation_key(creation_key[:64]) if creation_key else None
    return existing if existing is not None and existing.creator == viewer.id else None


async def create(
    viewer: Viewer, c: dict, checked_files: list, *, client_address: str
) -> Application:
    """The demande, its files, its audit event and its e-mails: all or nothing."""
    key = c["creation_key"]
    existing = await applications.find_by_creation_key(key) if key else None
    if existing is not None and existing.creator != viewer.id:
        # Someone else's key (forged): never let it lead to their demande.
        c = {**c, "creation_key": None}
    creator = await acting_user(viewer)
    try:
        async with DB.transaction():
            application = await applications.create_application(creator=creator, **c)
            await _record_with_files(
                viewer,
                Event.APPLICATION_CREATED,
                checked_files,
                application_id=application.id,
                answer_id=None,
                client_address=client_address,
            )
            await notifications.application_created(application.id)
    except UniqueViolationError:
        # Two clicks raced past earlier_submission: the other request created the demande.
        existing = await earlier_submission(viewer, c["creation_key"] or "")
        if existing is None:
            raise
        return existing
    return application


async def _author_group(viewer: Viewer, facts: ApplicationFacts) -> UUID | None:
    """The group the author speaks for: the one they were invited through, or the creator's."""
    participation_group = await applications.load_participation_group(facts.id, viewer.id)
    if participation_group is not None:
        return participation_group
    if policies.is_creator(viewer, facts):
        return facts.creator_group_id
    return next(iter(viewer.group_ids)) if len(viewer.group_ids) == 1 else None


async def answer(
    viewer: Viewer, facts: ApplicationFacts, c: dict, checked_files: list, *, client_address: str
) -> Answer:
    """The answer, its files, the audit line, the notifications; then the author has seen it.

    Raises applications.WipedError when the demande's personal data were erased meanwhile."""
    author = await acting_user(viewer)
    async with DB.transaction():
        posted = await applications.post_answer(
            facts.id, author, author_group=await _author_group(viewer, facts), **c
        )
        await _record_with_files(
            viewer,
            Event.ANSWER_POSTED,
            checked_files,
            application_id=facts.id,
            answer_id=posted.id,
            client_address=client_address,
        )
        await notifications.answer_posted(posted.id)
    await applications.mark_seen(facts.id, viewer.id)
    return posted


async def invite(viewer: Viewer, facts: ApplicationFacts, c: dict, *, client_address: str) -> None:
    """The invitation entry, the new participants, one audit line per kind, the e-mails."""
    author = await acting_user(viewer)
    async with DB.transaction():
        invitation = await applications.invite(
            facts.id, author, author_group=await _author_group(viewer, facts), **c
        )
        if c["user_ids"] or c["experts"]:
            await _record(Event.USERS_INVITED, viewer, facts.id, client_address)
        for group_id in c["group_ids"]:
            await _record(Event.GROUP_INVITED, viewer, facts.id, client_address, group_id=group_id)
        await notifications.invitation_sent(invitation)


async def _close_or_reopen(
    viewer: Viewer,
    facts: ApplicationFacts,
    change: Callable[[User], Awaitable[Any]],
    event: Event,
    client_address: str,
) -> None:
    author = await acting_user(viewer)
    async with DB.transaction():
        await change(author)
        await _record(event, viewer, facts.id, client_address)


async def archive(
    viewer: Viewer, facts: ApplicationFacts, usefulness: str | None, *, client_address: str
) -> None:
    await _close_or_reopen(
        viewer,
        facts,
        lambda author: applications.archive(facts.id, author, usefulness),
        Event.APPLICATION_ARCHIVED,
        client_address,
    )


async def reopen(viewer: Viewer, facts: ApplicationFacts, *, client_address: str) -> None:
    """Raises applications.WipedError when the personal data were erased meanwhile."""
    await _close_or_reopen(
        viewer,
        facts,
        lambda author: applications.reopen(facts.id, author),
        Event.APPLICATION_REOPENED,
        client_address,
    )


def _opening_event(anonymised: bool) -> Event:
    return Event.APPLICATION_OPENED_ANONYMISED if anonymised else Event.APPLICATION_OPENED


def opening_writes(
    viewer: Viewer, facts: ApplicationFacts, *, anonymised: bool, client_address: str
) -> list[QueryString]:
    """The opening of a demande page: its audit event and, for a reader, the seen mark, as
    statements the page sends with its read (`applications.load_demande(writes=…)`); once
    they are written, `opening_logged`."""
    writes = [
        audit.insert_statement(
            _opening_event(anonymised),
            actor_id=viewer.id,
            application_id=facts.id,
            client_address=client_address,
        )
    ]
    if not anonymised:
        writes.append(applications.seen_mark_moved(facts.id, viewer.id, clock.now()))
    return writes


def opening_logged(viewer: Viewer, facts: ApplicationFacts, *, anonymised: bool) -> None:
    audit.logged(_opening_event(anonymised), viewer.id, facts.id)


async def downloadable_file(
    viewer: Viewer, facts: ApplicationFacts, file_id: UUID, *, client_address: str
) -> dict | None:
    """The attachment if this viewer may download it; otherwise None (a 404 for the handler,
    recorded here as outside the viewer's scope: a private answer's file is not confirmed)."""
    attachment = (
        await Attachment.select()
        .where((Attachment.id == file_id) & (Attachment.application == facts.id))
        .first()
    )
    visibility = "public"
    if attachment is not None and attachment["answer"] is not None:
        answer_row = (
            await Answer.select(Answer.visibility).where(Answer.id == attachment["answer"]).first()
        )
        visibility = answer_row["visibility"]
    if attachment is None or not policies.can_download_file(viewer, facts, visibility):
        await _record(Event.NOT_FOUND_IN_SCOPE, viewer, facts.id, client_address, file_id=file_id)
        return None
    return attachment


async def download(
    viewer: Viewer, facts: ApplicationFacts, attachment: dict, *, client_address: str
) -> bytes:
    """The file's bytes, decrypted; the download is recorded."""
    content = files.read(attachment["id"], attachment["key_id"])
    await _record(Event.FILE_DOWNLOADED, viewer, facts.id, client_address, file_id=attachment["id"])
    return content
