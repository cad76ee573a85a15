"""Groups and their members (Mes groupes, the group page), one module per resource.

`lists` (the groups of a scope, pages of members, export rows), `membership` (adding,
removing, disabling a member, inline edits), `accounts` (several new accounts at once),
`texts` (the group's own texts). Routes call `groups.<function>`: the names below.
"""

from app.domain.groups.accounts import (
    MAX_NEW_ROWS,
    NEW_ACCOUNT_FIELDS,
    NewAccountsForm,
    create_accounts,
    is_helper_organisation,
    read_new_account_rows,
)
from app.domain.groups.lists import (
    EXPORT_HEADER,
    MEMBERS_PAGE_SIZE,
    MY_GROUPS_PAGE_SIZE,
    MembersPage,
    export_rows,
    group_members,
    group_members_pages,
    member_row,
    my_groups,
    my_groups_page,
)
from app.domain.groups.membership import (
    MEMBER_FLAGS,
    MEMBER_TEXT_FIELDS,
    MemberForm,
    add_existing_member,
    checked,
    clean_member_fields,
    deactivate_member,
    grant_group_open_applications,
    open_applications_to_grant,
    reactivate_member,
    update_member,
)
from app.domain.groups.texts import (
    GROUP_TEXT_FIELDS,
    clean_group_texts,
    save_group_changes,
    update_group_texts,
)

__all__ = [
    "is_helper_organisation",
    "MAX_NEW_ROWS",
    "NEW_ACCOUNT_FIELDS",
    "NewAccountsForm",
    "read_new_account_rows",
    "create_accounts",
    "my_groups",
    "MY_GROUPS_PAGE_SIZE",
    "my_groups_page",
    "group_members",
    "MEMBERS_PAGE_SIZE",
    "MembersPage",
    "group_members_pages",
    "member_row",
    "EXPORT_HEADER",
    "export_rows",
    "MEMBER_TEXT_FIELDS",
    "MEMBER_FLAGS",
    "open_applications_to_grant",
    "grant_group_open_applications",
    "add_existing_member",
    "deactivate_member",
    "reactivate_member",
    "MemberForm",
    "checked",
    "clean_member_fields",
    "update_member",
    "GROUP_TEXT_FIELDS",
    "clean_group_texts",
    "save_group_changes",
    "update_group_texts",
]
