"""Mes groupes, one module per resource: the members (and their rows), account creation, the
group's texts, the exports; blocks.py renders a group's block for all of them."""

from litestar import Router

from app.routes.groups import accounts, exports, members, texts

router = Router(
    path="",
    route_handlers=[
        members.index,
        members.show,
        members.add_member,
        members.deactivate,
        members.reactivate,
        members.member,
        members.edit_member,
        members.save_member,
        accounts.new_accounts,
        accounts.create_accounts,
        texts.texts,
        texts.save_texts,
        exports.export_csv,
        exports.export_xlsx,
    ],
)
