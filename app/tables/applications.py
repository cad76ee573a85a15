"""Demandes and everything hanging from them: groups, participants, answers, files, mandats."""

from piccolo.columns import (
    JSONB,
    UUID,
    Array,
    BigInt,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from app.tables.reference import Area
from app.tables.users import Group, User


class Application(Table, tablename="application"):
    """A demande: one blockage of one usager.

    `status` and the timing columns are a cache of what the thread says, rewritten by
    `app.domain.applications.refresh_application` after every answer, so the inbox can filter
    and sort on indexed columns instead of reading threads.
    """

    id = UUID(primary_key=True)
    creator = ForeignKey(references=User, on_delete=OnDelete.restrict, index=True)
    creator_group = ForeignKey(references=Group, null=True, on_delete=OnDelete.set_null)
    area = ForeignKey(references=Area)
    # Idempotency key of the creation form: a double submission finds the first demande.
    creation_key = Varchar(length=64, unique=True, null=True, default=None)
    subject = Varchar(length=150, default="")
    usager_first_name = Varchar(length=100, default="")
    usager_last_name = Varchar(length=100, default="")
    usager_birth_date = Date(null=True, default=None)
    # Optional usager fields, in the order entered: [{"code": "nir", "value": "..."}].
    usager_fields = JSONB(default=[])
    description = Text(default="")
    # Signature of a collective account's author: "Prénom Nom, service".
    signature = Varchar(length=300, default="")
    # new | in_progress | processed | archived (see docs/decisions on the derived status).
    status = Varchar(length=12, default="new")
    created_at = Timestamptz(default=TimestamptzNow())
    # First and last answers from anyone but the creator (invitations excluded).
    first_answer_at = Timestamptz(null=True, default=None)
    last_answer_at = Timestamptz(null=True, default=None)
    # Last activity of any kind: the inbox sort key of participants who read private answers.
    updated_at = Timestamptz(default=TimestamptzNow())
    # Last activity everyone in the demande can see (private answers left out): the sort key
    # and "dernière activité" of the others, so a private exchange neither moves the demande
    # up in their inbox nor shows its time (docs/decisions/2026-12-02-private-activity.md).
    public_updated_at = Timestamptz(default=TimestamptzNow())
    # When the demande becomes "en souffrance" unless answered (business days).
    late_at = Timestamptz(null=True, default=None)
    processed_at = Timestamptz(null=True, default=None)
    archived_at = Timestamptz(null=True, default=None)
    # Business hours from the creation to the first answer and to "traitée" (else the
    # archiving), in tenths: the inbox export's délais (`state.delay_tenths`).
    first_answer_delay_tenths = Integer(null=True, default=None)
    resolution_delay_tenths = Integer(null=True, default=None)
    # oui | ne_sait_pas | non
    usefulness = Varchar(length=12, null=True, default=None)
    # "Procédure standard": non-pertinente for statistics.
    is_irrelevant = Boolean(default=False)
    answers_count = Integer(default=0)
    personal_data_wiped_at = Timestamptz(null=True, default=None)


class ApplicationGroup(Table, tablename="application_group"):
    """A group addressed by a demande (at creation or invited later)."""

    id = UUID(primary_key=True)
    application = ForeignKey(references=Application, on_delete=OnDelete.cascade)
    group = ForeignKey(references=Group, on_delete=OnDelete.cascade, index=True)
    invited_by = ForeignKey(references=User, null=True, on_delete=OnDelete.set_null)
    created_at = Timestamptz(default=TimestamptzNow())


class Participation(Table, tablename="participation"):
    """A person on a demande: its creator or someone invited; carries their "seen" mark."""

    id = UUID(primary_key=True)
    application = ForeignKey(references=Application, on_delete=OnDelete.cascade)
    user = ForeignKey(references=User, on_delete=OnDelete.cascade)
    is_creator = Boolean(default=False)
    # The group through which they were invited, if any.
    group = ForeignKey(references=Group, null=True, on_delete=OnDelete.set_null)
    invited_by = ForeignKey(references=User, null=True, on_delete=OnDelete.set_null)
    # The answer that carried the invitation, if any.
    via_answer = UUID(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    last_seen_at = Timestamptz(null=True, default=None)
    # Copies of the demande's inbox columns, kept by database triggers (see
    # docs/decisions/2026-11-22-inbox-denormalisation.md), so one index on
    # (user, app_status, app_updated_at, application) serves every inbox tab and count.
    app_status = Varchar(length=12, default="new")
    app_updated_at = Timestamptz(null=True, default=None)
    app_late_at = Timestamptz(null=True, default=None)
    # Groups addressed by the demande plus the creator's group (the inbox group filter).
    app_groups = Array(base_column=UUID(), default=list)
    # What this participant reads on this demande, kept by database triggers from their roles,
    # `is_creator` and `app_status`: the SQL mirror of `policies.can_read_application` and
    # `policies.can_read_private_answers`, so the inbox's search and counts follow the thread
    # (docs/decisions/2026-12-01-private-answers-per-demande.md).
    reads_content = Boolean(default=True)
    reads_private = Boolean(default=False)


class Answer(Table, tablename="answer"):
    """One entry of a demande's thread."""

    id = UUID(primary_key=True)
    application = ForeignKey(references=Application, on_delete=OnDelete.cascade)
    author = ForeignKey(references=User, on_delete=OnDelete.restrict)
    author_group = ForeignKey(references=Group, null=True, on_delete=OnDelete.set_null)
    # message | take_charge | wrong_recipient | invitation | usager_fields | archive | reopen
    kind = Varchar(length=20, default="message")
    # "public" or "instructors" (réservé aux instructeurs).
    visibility = Varchar(length=12, default="public")
    body = Text(default="")
    marks_processed = Boolean(default=False)
    marks_irrelevant = Boolean(default=False)
    # Usager fields added by the creator: [{"code": ..., "value": ...}].
    added_fields = JSONB(default=[])
    # Ids of the users and groups invited by this answer.
    invited = JSONB(default={})
    signature = Varchar(length=300, default="")
    created_at = Timestamptz(default=TimestamptzNow())


class Attachment(Table, tablename="attachment"):
    """Metadata of an encrypted file; the bytes live under FILES_DIR until deleted."""

    id = UUID(primary_key=True)
    application = ForeignKey(references=Application, on_delete=OnDelete.cascade, index=True)
    answer = ForeignKey(references=Answer, null=True, on_delete=OnDelete.cascade)
    uploader = ForeignKey(references=User, on_delete=OnDelete.restrict)
    filename = Varchar(length=255)
    content_type = Varchar(length=100)
    size = BigInt()
    # Which FILE_KEYS entry encrypted it, so keys can rotate.
    key_id = Varchar(length=20)
    created_at = Timestamptz(default=TimestamptzNow())
    deleted_at = Timestamptz(null=True, default=None)


class Mandat(Table, tablename="mandat"):
    """How the usager's consent was obtained."""

    id = UUID(primary_key=True)
    application = ForeignKey(references=Application, on_delete=OnDelete.cascade, unique=True)
    # paper | sms | phone
    kind = Varchar(length=10)
    obtained_on = Date()
    created_at = Timestamptz(default=TimestamptzNow())
