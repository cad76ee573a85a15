"""The one helper that writes audit events: a code and ids, never names or free text."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from enum import StrEnum
from typing import Any
from uuid import UUID

from piccolo.querystring import QueryString

from app import clock
from app.tables import AuditEvent

log = logging.getLogger("aplus.audit")


class Event(StrEnum):
    LOGIN_LINK_REQUESTED = "login_link_requested"
    LOGIN_LINK_UNKNOWN_EMAIL = "login_link_unknown_email"
    LOGIN_LINK_RATE_LIMITED = "login_link_rate_limited"
    LOGIN_LINK_REFUSED_DISABLED = "login_link_refused_disabled"
    LOGIN_SUCCEEDED = "login_succeeded"
    LOGIN_FAILED_EXPIRED = "login_failed_expired"
    LOGIN_FAILED_USED = "login_failed_used"
    LOGIN_FAILED_UNKNOWN = "login_failed_unknown"
    LOGOUT = "logout"
    CGU_ACCEPTED = "cgu_accepted"
    PROFILE_UPDATED = "profile_updated"
    ACCESS_DENIED = "access_denied"
    NOT_FOUND_IN_SCOPE = "not_found_in_scope"
    USER_CREATED = "user_created"
    APPLICATION_CREATED = "application_created"
    APPLICATION_OPENED = "application_opened"
    APPLICATION_OPENED_ANONYMISED = "application_opened_anonymised"
    ANSWER_POSTED = "answer_posted"
    USERS_INVITED = "users_invited"
    GROUP_INVITED = "group_invited"
    APPLICATION_ARCHIVED = "application_archived"
    APPLICATION_REOPENED = "application_reopened"
    FILE_UPLOADED = "file_uploaded"
    FILE_DOWNLOADED = "file_downloaded"
    MEMBER_ADDED = "member_added"
    MEMBER_REMOVED = "member_removed"
    MEMBER_UPDATED = "member_updated"
    USER_DISABLED = "user_disabled"
    USER_REACTIVATED = "user_reactivated"
    INSTRUCTOR_ACCESS_GRANTED = "instructor_access_granted"
    GROUP_CREATED = "group_created"
    GROUP_UPDATED = "group_updated"
    GROUP_DELETED = "group_deleted"
    USERS_EXPORTED = "users_exported"
    USER_UPDATED = "user_updated"
    USER_EMAIL_CHANGED = "user_email_changed"
    USER_DELETED = "user_deleted"
    USER_PREREGISTERED = "user_preregistered"
    IMPORT_APPLIED = "import_applied"
    SCOPE_GRANTED = "scope_granted"
    SCOPE_REMOVED = "scope_removed"


def insert_statement(
    code: Event,
    *,
    actor_id: UUID | None = None,
    user_id: UUID | None = None,
    group_id: UUID | None = None,
    application_id: UUID | None = None,
    file_id: UUID | None = None,
    client_address: str = "",
    changed_fields: Iterable[str] = (),
) -> QueryString:
    """The INSERT of one event, to send inside another statement (a data-modifying CTE, e.g.
    the demande page's read); the caller logs it with `logged`."""
    return QueryString(
        "INSERT INTO audit_event (code, actor_id, target_user_id, target_group_id,"
        " target_application_id, target_file_id, client_address, changed_fields, created_at)"
        " VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {})",
        code.value,
        actor_id,
        user_id,
        group_id,
        application_id,
        file_id,
        client_address,
        list(dict.fromkeys(changed_fields)),
        clock.now(),
    )


def logged(code: Event, actor_id: UUID | None, application_id: UUID | None) -> None:
    # Ids only: safe to log.
    log.info("audit %s actor=%s application=%s", code.value, actor_id, application_id)


async def record(code: Event, **ids: Any) -> None:
    """Write one event; `ids` are `insert_statement`'s (for edits, `changed_fields` names the
    fields, never their values)."""
    await AuditEvent.raw("{}", insert_statement(code, **ids))
    logged(code, ids.get("actor_id"), ids.get("application_id"))
