"""Admin screens, scoped to the admin's départements, one module per resource: groups, users
(with their groups and scopes), the events log, pre-registration and CSV import."""

from litestar import Router

from app.routes.admin import events, groups, imports, users

router = Router(
    path="",
    route_handlers=[
        groups.home,
        groups.groups_list,
        groups.group_new,
        groups.group_create,
        groups.group_edit,
        groups.group_update,
        groups.group_delete,
        users.users_list,
        users.user_edit,
        users.user_update,
        users.user_add_group,
        users.user_remove_group,
        users.user_add_scope,
        users.user_remove_scope,
        users.user_delete,
        events.events,
        imports.preregistration,
        imports.preregistration_post,
        imports.import_form,
        imports.import_post,
    ],
)
