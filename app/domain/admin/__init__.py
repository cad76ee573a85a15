"""Admin screens (an admin's départements), one module per resource.

`groups`, `users` (accounts and their memberships), `scopes` (area managers, observers),
`events` (the events log), `preregistration` (e-mails pasted for a group), `csv_import`.
Routes and the CLI call `admin.<function>`: the names below are the admin screens' domain.
"""

from app.domain.admin.csv_import import (
    IMPORT_COLUMNS,
    ImportLine,
    apply_import,
    import_file_text,
    review_import,
)
from app.domain.admin.events import (
    EVENTS_FIRST_DAY,
    EVENTS_LAST_DAY,
    FIELD_LABELS,
    EventFilters,
    list_events,
    parse_event_filters,
)
from app.domain.admin.groups import (
    GROUP_FIELDS,
    clean_group,
    delete_group,
    list_groups,
    load_group,
    parse_areas,
    save_group,
)
from app.domain.admin.preregistration import (
    PreregistrationLine,
    apply_preregistration,
    preregistration,
    review_preregistration,
)
from app.domain.admin.scopes import (
    SCOPE_ROLES,
    add_scope,
    clean_scope,
    grant_scope,
    remove_scope,
    user_scopes,
)
from app.domain.admin.users import (
    PAGE_SIZE,
    USER_FIELDS,
    add_user_to_group,
    clean_user,
    delete_user,
    get_user,
    list_users,
    remove_user_from_group,
    save_user,
    user_memberships,
)

__all__ = [
    "EVENTS_FIRST_DAY",
    "EVENTS_LAST_DAY",
    "FIELD_LABELS",
    "GROUP_FIELDS",
    "IMPORT_COLUMNS",
    "PAGE_SIZE",
    "SCOPE_ROLES",
    "USER_FIELDS",
    "EventFilters",
    "ImportLine",
    "PreregistrationLine",
    "add_scope",
    "add_user_to_group",
    "apply_import",
    "apply_preregistration",
    "clean_group",
    "clean_scope",
    "clean_user",
    "delete_group",
    "delete_user",
    "get_user",
    "grant_scope",
    "import_file_text",
    "list_events",
    "list_groups",
    "list_users",
    "load_group",
    "parse_areas",
    "parse_event_filters",
    "preregistration",
    "remove_scope",
    "remove_user_from_group",
    "review_import",
    "review_preregistration",
    "save_group",
    "save_user",
    "user_memberships",
    "user_scopes",
]
