"""Admin screens, the events log of the admin's départements."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from uuid import UUID

from app.domain import audit
from app.domain.admin.users import PAGE_SIZE
from app.domain.validators import page_number
from app.emails import PARIS as PARIS_TZ
from app.policies import (
    Viewer,
    administered_groups,
    people_of_admin_areas,
)
from app.tables import (
    AuditEvent,
    Group,
    User,
)

FIELD_LABELS = {
    "email": "e-mail",
    "first_name": "prénom",
    "last_name": "nom",
    "qualite": "qualité",
    "phone": "téléphone",
    "is_helper": "aidant",
    "is_instructor": "instructeur",
    "is_manager": "responsable",
    "is_collective": "compte partagé",
    "internal_note": "note interne",
    "disabled_at": "désactivation",
    "cgu_version": "version des CGU acceptée",
    "cgu_accepted_at": "date d'acceptation des CGU",
    "groups": "groupes",
    "scopes": "périmètres",
    "name": "nom du groupe",
    "organisation": "organisme",
    "areas": "départements",
    "network": "réseau",
    "short_description": "description courte",
    "public_note": "note publique",
    "bal_email": "BAL",
}


@dataclass
class EventFilters:
    user_id: UUID | None = None
    code: str = ""
    start: date | None = None
    end: date | None = None
    page: int = 1
    errors: dict[str, str] = field(default_factory=dict)


EVENTS_FIRST_DAY = date(2000, 1, 1)
EVENTS_LAST_DAY = date(2999, 12, 31)


def parse_event_filters(params: dict[str, str]) -> EventFilters:
    filters = EventFilters()
    raw_user = (params.get("utilisateur") or "").strip()
    if raw_user:
        try:
            filters.user_id = UUID(raw_user)
        except ValueError:
            filters.errors["utilisateur"] = "Identifiant d'utilisateur invalide."
    code = (params.get("code") or "").strip()
    if code:
        if code in {e.value for e in audit.Event}:
            filters.code = code
        else:
            filters.errors["code"] = "Type d'événement inconnu."
    for name, attr in (("du", "start"), ("au", "end")):
        raw = (params.get(name) or "").strip()
        if raw:
            try:
                day = date.fromisoformat(raw)
            except ValueError:
                filters.errors[name] = "Date invalide (format attendu : AAAA-MM-JJ)."
                continue
            # Day bounds become Paris datetimes, the day after included: stay far from the
            # calendar's ends (0001-01-01, 9999-12-31).
            if not EVENTS_FIRST_DAY <= day <= EVENTS_LAST_DAY:
                filters.errors[name] = (
                    f"Date hors de la période possible ({EVENTS_FIRST_DAY:%d/%m/%Y} au "
                    f"{EVENTS_LAST_DAY:%d/%m/%Y})."
                )
                continue
            setattr(filters, attr, day)
    filters.page = page_number(params.get("page"))
    return filters


async def list_events(viewer: Viewer, filters: EventFilters) -> tuple[list[dict], bool]:
    """Events about people or groups of the admin's départements, newest first."""
    people = User.select(User.id).where(people_of_admin_areas(viewer))
    groups = Group.select(Group.id).where(administered_groups(viewer))
    query = AuditEvent.select().where(
        AuditEvent.actor_id.is_in(people)
        | AuditEvent.target_user_id.is_in(people)
        | AuditEvent.target_group_id.is_in(groups)
    )
    if filters.user_id:
        query = query.where(
            (AuditEvent.actor_id == filters.user_id)
            | (AuditEvent.target_user_id == filters.user_id)
        )
    if filters.code:
        query = query.where(AuditEvent.code == filters.code)
    if filters.start:
        query = query.where(
            AuditEvent.created_at >= datetime.combine(filters.start, time(), PARIS_TZ)
        )
    if filters.end:
        end = datetime.combine(filters.end + timedelta(days=1), time(), PARIS_TZ)
        query = query.where(AuditEvent.created_at < end)
    rows = (
        await query.order_by(AuditEvent.created_at, AuditEvent.id, ascending=False)
        .limit(PAGE_SIZE + 1)
        .offset((filters.page - 1) * PAGE_SIZE)
    )
    return rows[:PAGE_SIZE], len(rows) > PAGE_SIZE
