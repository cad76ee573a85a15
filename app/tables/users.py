"""Users and groups."""

from piccolo.columns import (
    UUID,
    Array,
    BigInt,
    Boolean,
    ForeignKey,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.reference import LazyTableReference
from piccolo.table import Table

from app.tables.reference import Organisation


class User(Table, tablename="app_user"):
    """An account: always one professional e-mail; roles are flags combined on it."""

    id = UUID(primary_key=True)
    # Stored lower-cased: addresses are case-insensitive.
    email = Varchar(length=254, unique=True)
    first_name = Varchar(length=100, default="")
    last_name = Varchar(length=100, default="")
    qualite = Varchar(length=150, default="")
    phone = Varchar(length=30, default="")
    is_helper = Boolean(default=False)
    is_instructor = Boolean(default=False)
    is_expert = Boolean(default=False)
    is_admin = Boolean(default=False)
    # Départements an admin administers.
    admin_areas = Array(base_column=Varchar(length=3), default=list)
    # Compte partagé: several people behind one address, each message signed.
    is_collective = Boolean(default=False)
    # "each" (one e-mail per event) or "daily" (one digest a day).
    notification_frequency = Varchar(length=10, default="each")
    cgu_version = Varchar(length=20, null=True, default=None)
    cgu_accepted_at = Timestamptz(null=True, default=None)
    last_seen_at = Timestamptz(null=True, default=None, index=True)
    disabled_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    # Pre-registered aidants exist before their first login.
    first_login_at = Timestamptz(null=True, default=None)
    internal_note = Text(default="")
    # Moves whenever anything the user's inbox shows changes (triggers, migration 2026-12-02
    # 02:21): keys the inbox's count cache and ETag.
    inbox_version = BigInt(default=0)


class Group(Table, tablename="app_group"):
    """A team: one organisation in one or more départements."""

    id = UUID(primary_key=True)
    name = Varchar(length=200)
    organisation = ForeignKey(references=Organisation, null=True)
    areas = Array(base_column=Varchar(length=3), default=list)
    short_description = Varchar(length=300, default="")
    # Shown to aidants once they tick the group on a new demande.
    public_note = Text(default="")
    # Boîte aux lettres: the team's shared mailbox for notifications.
    bal_email = Varchar(length=254, null=True, default=None)
    network = Varchar(length=100, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    created_by = ForeignKey(
        references=LazyTableReference("User", module_path="app.tables.users"), null=True
    )
