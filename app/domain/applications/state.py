"""A demande's status and timings, derived from its thread (spec §4.3), and their labels."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from app.domain import business_days
from app.tables import Answer, Application

# Thread entries that are answers in the product's sense (invitations, archiving do not count).
REAL_ANSWER_KINDS = frozenset({"message", "take_charge", "wrong_recipient", "usager_fields"})
STATUSES = ("new", "in_progress", "processed", "archived")
# How a status reads in the UI and the CSV export.
STATUS_LABELS = {
    "new": "Nouvelle",
    "in_progress": "En cours",
    "processed": "Traitée",
    "archived": "Archivée",
}
# The creator reads the status as what they have to do next (spec §4.3).
CREATOR_STATUS_LABELS = {**STATUS_LABELS, "new": "Envoyée", "processed": "À archiver"}


class WipedError(Exception):
    """The demande's personal data was erased (retention): it takes no answer any more."""

    def __init__(self, wiped_at: datetime):
        super().__init__("personal data wiped")
        self.wiped_at = wiped_at


def wiped_refusal(wiped_at: datetime) -> str:
    from app.formatting import date_fr

    return (
        f"Cette demande ne peut plus être rouverte ni recevoir de message : ses données"
        f" personnelles ont été supprimées le {date_fr(wiped_at)}, comme le prévoient les"
        " conditions d'utilisation. Créez une nouvelle demande si le blocage persiste."
    )


def status_label(status: str, is_creator: bool) -> str:
    return (CREATOR_STATUS_LABELS if is_creator else STATUS_LABELS)[status]


@dataclass(frozen=True)
class ThreadEntry:
    """The few facts of an answer the status depends on."""

    author_id: UUID
    kind: str
    created_at: datetime
    marks_processed: bool = False
    marks_irrelevant: bool = False
    # A private answer (instructeurs only) is not activity the others may see.
    is_public: bool = True


@dataclass(frozen=True)
class DerivedState:
    status: str
    first_answer_at: datetime | None
    last_answer_at: datetime | None
    processed_at: datetime | None
    archived_at: datetime | None
    is_irrelevant: bool
    answers_count: int
    updated_at: datetime
    public_updated_at: datetime


def derive_state(
    creator_id: UUID, created_at: datetime, thread: Sequence[ThreadEntry]
) -> DerivedState:
    """Spec §4.3: status is read from the thread, never typed by hand."""
    first_answer_at = last_answer_at = processed_at = archived_at = None
    last_real: ThreadEntry | None = None
    archived = False
    count = 0
    for entry in thread:
        if entry.kind == "archive":
            archived, archived_at = True, entry.created_at
        elif entry.kind == "reopen":
            archived, archived_at = False, None
        elif entry.kind in REAL_ANSWER_KINDS:
            count += 1
            last_real = entry
            if entry.author_id == creator_id:
                # A message from the creator reopens an archived demande.
                archived, archived_at = False, None
            else:
                first_answer_at = first_answer_at or entry.created_at
                last_answer_at = entry.created_at
            processed_at = entry.created_at if entry.marks_processed else None
    if archived:
        status = "archived"
    elif last_real is not None and last_real.marks_processed:
        status = "processed"
    elif first_answer_at is not None:
        status = "in_progress"
    else:
        status = "new"
    return DerivedState(
        status=status,
        first_answer_at=first_answer_at,
        last_answer_at=last_answer_at,
        processed_at=processed_at,
        archived_at=archived_at,
        is_irrelevant=any(e.marks_irrelevant for e in thread),
        answers_count=count,
        updated_at=thread[-1].created_at if thread else created_at,
        public_updated_at=max((e.created_at for e in thread if e.is_public), default=created_at),
    )


def delay_tenths(
    created_at: datetime,
    first_answer_at: datetime | None,
    resolved_at: datetime | None,
    area: str,
) -> tuple[int | None, int | None]:
    """Business hours from the creation to the first answer and to the resolution, in tenths
    (None while it has not happened): the inbox export's délais, computed when the thread
    changes and stored, so exporting 50 000 demandes reads them instead of computing them.
    The resolution is the "traitée" answer, else the archiving."""
    first, resolved = business_days.business_hours_since(
        created_at, (first_answer_at, resolved_at), area
    )
    return (
        None if first is None else round(first * 10),
        None if resolved is None else round(resolved * 10),
    )


async def refresh_application(application_id: UUID) -> DerivedState:
    """Recompute the cached status and timings of a demande from its thread (3 statements)."""
    first = (
        await Application.select(Application.creator, Application.created_at, Application.area)
        .where(Application.id == application_id)
        .first()
    )
    rows = (
        await Answer.select(
            Answer.author,
            Answer.kind,
            Answer.created_at,
            Answer.marks_processed,
            Answer.marks_irrelevant,
            Answer.visibility,
        )
        .where(Answer.application == application_id)
        .order_by(Answer.created_at, Answer.id)
    )
    thread = [
        ThreadEntry(
            r["author"],
            r["kind"],
            r["created_at"],
            r["marks_processed"],
            r["marks_irrelevant"],
            is_public=r["visibility"] == "public",
        )
        for r in rows
    ]
    state = derive_state(first["creator"], first["created_at"], thread)
    late = None
    if state.status in ("new", "in_progress"):
        late = business_days.late_at(first["created_at"], state.last_answer_at, first["area"])
    first_answer_delay, resolution_delay = delay_tenths(
        first["created_at"],
        state.first_answer_at,
        state.processed_at or state.archived_at,
        first["area"],
    )
    await Application.update(
        {
            Application.status: state.status,
            Application.first_answer_at: state.first_answer_at,
            Application.last_answer_at: state.last_answer_at,
            Application.processed_at: state.processed_at,
            Application.archived_at: state.archived_at,
            Application.is_irrelevant: state.is_irrelevant,
            Application.answers_count: state.answers_count,
            Application.updated_at: state.updated_at,
            Application.public_updated_at: state.public_updated_at,
            Application.late_at: late,
            Application.first_answer_delay_tenths: first_answer_delay,
            Application.resolution_delay_tenths: resolution_delay,
        }
    ).where(Application.id == application_id)
    return state
