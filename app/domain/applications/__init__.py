"""Demandes, one module per concern.

`state` (the status derived from the thread, labels), `thread` (creation, answers,
archiving, invitations), `participants` (who is on a demande), `reading` (what the forms
and the demande page read). Callers use `applications.<function>`: the names below.
"""

from app.domain.applications.participants import (
    active_expert_ids,
    active_instructor_ids,
    add_groups,
    add_users,
    experts_not_on,
    grant_open_applications_to_new_instructor,
    load_participation_group,
    open_applications_of_group,
)
from app.domain.applications.reading import (
    DemandeView,
    addressable_groups,
    colleagues_of,
    find_by_creation_key,
    groups_by_ids,
    load_demande,
)
from app.domain.applications.state import (
    CREATOR_STATUS_LABELS,
    REAL_ANSWER_KINDS,
    STATUS_LABELS,
    STATUSES,
    DerivedState,
    ThreadEntry,
    WipedError,
    derive_state,
    refresh_application,
    status_label,
    wiped_refusal,
)
from app.domain.applications.thread import (
    Invitation,
    add_experts_automatically,
    archive,
    create_application,
    invite,
    mark_seen,
    post_answer,
    reopen,
)

__all__ = [
    "CREATOR_STATUS_LABELS",
    "DemandeView",
    "DerivedState",
    "Invitation",
    "REAL_ANSWER_KINDS",
    "STATUSES",
    "STATUS_LABELS",
    "ThreadEntry",
    "WipedError",
    "active_expert_ids",
    "active_instructor_ids",
    "add_experts_automatically",
    "add_groups",
    "add_users",
    "addressable_groups",
    "archive",
    "colleagues_of",
    "create_application",
    "derive_state",
    "experts_not_on",
    "find_by_creation_key",
    "grant_open_applications_to_new_instructor",
    "groups_by_ids",
    "invite",
    "load_demande",
    "load_participation_group",
    "mark_seen",
    "open_applications_of_group",
    "post_answer",
    "refresh_application",
    "reopen",
    "status_label",
    "wiped_refusal",
]
