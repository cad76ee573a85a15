"""Every table stores and returns every one of its columns unchanged."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from piccolo.columns import JSONB, ForeignKey, Serial
from piccolo.columns.column_types import BigSerial

from app import tables
from app.tables import ALL_TABLES, Application

T0 = datetime(2026, 3, 4, 9, 15, 30, 123456, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


# One row per table, in foreign-key order; every column gets a value that is not its default.
# ForeignKey values name the earlier row they point to.
ROWS: dict[str, dict] = {
    "Area": {
        "code": "ZZ",
        "name": "Département d'essai",
        "region": "Région d'essai",
        "is_collectivite": True,
    },
    "Organisation": {
        "code": "essai",
        "short_name": "ESSAI",
        "name": "Organisme d'essai",
        "category": "social",
        "kind": "helper",
    },
    "User": {
        "email": "agent.essai@exemple.gouv.fr",
        "first_name": "Élise",
        "last_name": "Ñúñez",
        "qualite": "Conseillère",
        "phone": "01 02 03 04 05",
        "is_helper": True,
        "is_instructor": True,
        "is_expert": True,
        "is_admin": True,
        "admin_areas": ["75", "974"],
        "is_collective": True,
        "notification_frequency": "daily",
        "cgu_version": "2024-01",
        "cgu_accepted_at": at(1),
        "last_seen_at": at(2),
        "disabled_at": at(3),
        "created_at": at(4),
        "first_login_at": at(5),
        "internal_note": "Note « interne »",
        "inbox_version": 7,
    },
    "Group": {
        "name": "Groupe d'essai",
        "organisation": "Organisation",
        "areas": ["ZZ", "2A"],
        "short_description": "Courte",
        "public_note": "Note publique",
        "bal_email": "bal@exemple.gouv.fr",
        "network": "Réseau",
        "created_at": at(6),
        "created_by": "User",
    },
    "Membership": {
        "user": "User",
        "group": "Group",
        "is_manager": True,
        "created_at": at(7),
        "governs_account": False,
    },
    "ManagerScope": {
        "user": "User",
        "role": "observer",
        "organisation": "Organisation",
        "area": "Area",
    },
    "LoginToken": {
        "token_hash": "a" * 64,
        "user": "User",
        "created_at": at(8),
        "expires_at": at(38),
        "used_at": at(9),
        "next_path": "/demandes?page=2",
    },
    "UserSession": {
        "id_hash": "b" * 64,
        "user": "User",
        "created_at": at(10),
        "last_seen_at": at(11),
        "expires_at": at(10000),
        "revoked_at": at(12),
        "signature": "Élise, accueil",
    },
    "RateLimitHit": {"key": "c" * 64, "created_at": at(13)},
    "Application": {
        "creator": "User",
        "creator_group": "Group",
        "area": "Area",
        "creation_key": "d" * 64,
        "subject": "Sujet",
        "usager_first_name": "Jeanne",
        "usager_last_name": "D'Arc",
        "usager_birth_date": date(1960, 2, 29),
        "usager_fields": [{"code": "nir", "value": "2 60 02 75 123 456 78"}],
        "description": "Une description\nsur deux lignes.",
        "signature": "Élise",
        "status": "processed",
        "created_at": at(14),
        "first_answer_at": at(15),
        "last_answer_at": at(16),
        "updated_at": at(17),
        "public_updated_at": at(22),
        "late_at": at(18),
        "processed_at": at(19),
        "archived_at": at(20),
        "first_answer_delay_tenths": 185,
        "resolution_delay_tenths": 410,
        "usefulness": "ne_sait_pas",
        "is_irrelevant": True,
        "answers_count": 3,
        "personal_data_wiped_at": at(21),
    },
    "ApplicationGroup": {
        "application": "Application",
        "group": "Group",
        "invited_by": "User",
        "created_at": at(22),
    },
    "Participation": {
        "application": "Application",
        "user": "User",
        "is_creator": True,
        "group": "Group",
        "invited_by": "User",
        "via_answer": uuid.uuid4(),
        "created_at": at(23),
        "last_seen_at": at(24),
        # Copies of the demande's columns: the inbox triggers overwrite what is given.
        "app_status": "new",
        "app_updated_at": at(25),
        "app_late_at": at(26),
        "app_groups": [],
        # What the participant reads, computed by a trigger whatever is given (see below).
        "reads_content": False,
        "reads_private": True,
    },
    "Answer": {
        "application": "Application",
        "author": "User",
        "author_group": "Group",
        "kind": "invitation",
        "visibility": "instructors",
        "body": "Réponse <b>brute</b>",
        "marks_processed": True,
        "marks_irrelevant": True,
        "added_fields": [{"code": "caf_id", "value": "123"}],
        "invited": {"users": [str(uuid.uuid4())], "groups": []},
        "signature": "Signé",
        "created_at": at(25),
    },
    "Attachment": {
        "application": "Application",
        "answer": "Answer",
        "uploader": "User",
        "filename": "relevé été.pdf",
        "content_type": "application/pdf",
        "size": 5_000_000_000,
        "key_id": "k1",
        "created_at": at(26),
        "deleted_at": at(27),
    },
    "Mandat": {
        "application": "Application",
        "kind": "sms",
        "obtained_on": date(2026, 3, 1),
        "created_at": at(28),
    },
    "AuditEvent": {
        "code": "APPLICATION_VIEWED",
        "actor_id": uuid.uuid4(),
        "target_user_id": uuid.uuid4(),
        "target_group_id": uuid.uuid4(),
        "target_application_id": uuid.uuid4(),
        "target_file_id": uuid.uuid4(),
        "client_address": "2001:db8::1",
        "changed_fields": ["first_name", "phone"],
        "created_at": at(29),
    },
    "OutboxEmail": {
        "event": "welcome",
        "recipients": ["a@exemple.fr", "b@exemple.fr"],
        "subject": "[A+] Sujet",
        "html": "<p>Bonjour</p>",
        "text": "Bonjour",
        "urgent": 1,
        "created_at": at(30),
        "attempts": 2,
        "last_error": "SMTPError",
        "sent_at": at(31),
        "sending_until": at(32),
    },
    "DigestEntry": {
        "user": "User",
        "application": "Application",
        "event": "new_answer",
        "created_at": at(33),
    },
    "ReminderMark": {
        "key": "late:00000000-0000-0000-0000-000000000000:1767222000",
        "created_at": at(34),
    },
}


def _generated(column) -> bool:
    return column._meta.primary_key and isinstance(column, Serial | BigSerial)


def test_every_table_has_a_row_covering_every_column():
    assert [t.__name__ for t in ALL_TABLES] == list(ROWS), "add the new table to ROWS"
    for table in ALL_TABLES:
        wanted = {c._meta.name for c in table._meta.columns if not _generated(c)}
        if table._meta.primary_key._meta.name == "id" and not _generated(table._meta.primary_key):
            wanted.discard("id")  # a UUID primary key is generated on insert
        assert set(ROWS[table.__name__]) == wanted, table.__name__


# Columns kept by database triggers (inbox denormalisation), and the demande column they copy.
TRIGGER_COPIES = {
    "Participation": {
        "app_status": "status",
        # The creator reads no private answer: the activity they can see.
        "app_updated_at": "public_updated_at",
        "app_late_at": "late_at",
        "app_groups": None,
    }
}


# Columns computed by database triggers from the row (aplus_reads_content / _private): the
# participation above is its demande's creator, who reads the content but no private answer.
TRIGGER_COMPUTED = {"Participation": {"reads_content": True, "reads_private": False}}


async def test_round_trip_through_every_table(db):
    saved: dict[str, object] = {}
    for table in ALL_TABLES:
        spec = ROWS[table.__name__]
        values = {
            name: saved[value]
            if isinstance(table._meta.get_column_by_name(name), ForeignKey)
            else value
            for name, value in spec.items()
        }
        row = table(**values)
        await row.save()
        primary_key = getattr(row, table._meta.primary_key._meta.name)
        assert primary_key is not None, table.__name__
        saved[table.__name__] = primary_key

        read = (
            await table.select()
            .where(table._meta.primary_key == primary_key)
            .output(load_json=True)
            .first()
        )
        for name, expected in values.items():
            column = table._meta.get_column_by_name(name)
            got = read[name]
            if name in TRIGGER_COPIES.get(table.__name__, {}):
                source = (
                    await Application.select().where(Application.id == saved["Application"]).first()
                )
                copied = TRIGGER_COPIES[table.__name__][name]
                assert got == (source[copied] if copied else got), f"{table.__name__}.{name}"
                continue
            if name in TRIGGER_COMPUTED.get(table.__name__, {}):
                assert got is TRIGGER_COMPUTED[table.__name__][name], f"{table.__name__}.{name}"
                continue
            if isinstance(column, JSONB):
                assert got == expected and isinstance(got, type(expected)), (table, name, got)
            else:
                assert got == expected, f"{table.__name__}.{name}: {got!r} != {expected!r}"
    assert len(saved) == len(ALL_TABLES) == len(tables.__all__) - 1
