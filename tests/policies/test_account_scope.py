"""`administered_users` (SQL, for lists) and `administers_account` (the rule) agree."""

from factories import make_group, make_user

from app import policies
from app.domain import users
from app.domain.sessions import build_viewer
from app.tables import ManagerScope, User


async def test_administered_users_is_the_rule_as_sql(db):
    paris, paris2 = await make_group(areas=["75"]), await make_group(areas=["75"])
    seine = await make_group(areas=["93"])
    shared = await make_group(areas=["75", "93"])
    admins = [
        await make_user(admin=True, admin_areas=["75"]),
        await make_user(admin=True, admin_areas=["75", "93"]),
        await make_user(admin=True, admin_areas=["13"]),
    ]
    people = [
        await make_user(helper_in=[paris]),
        await make_user(helper_in=[paris, paris2]),
        await make_user(helper_in=[paris, seine]),
        await make_user(helper_in=[shared]),
        await make_user(helper_in=[seine]),
        await make_user(helper=True),
        await make_user(expert=True, helper_in=[paris]),
        await make_user(admin=True, admin_areas=["75"], helper_in=[paris]),
    ]
    hosted = await make_user(helper=True)
    await users.add_member(paris.id, hosted.id, governs=False)
    hosted_too = await make_user(helper_in=[seine])
    await users.add_member(paris.id, hosted_too.id, governs=False)
    people += [hosted, hosted_too]
    for area in ("75", None, "93"):
        scoped = await make_user()
        await ManagerScope(user=scoped.id, role="observer", organisation=None, area=area).save()
        people.append(scoped)
    everyone = [*people, *admins]
    facts = await policies.account_facts([u.id for u in everyone])
    for admin in admins:
        viewer = await build_viewer((await User.select().where(User.id == admin.id))[0])
        rows = await User.select(User.id).where(policies.administered_users(viewer))
        by_sql = {r["id"] for r in rows} & {u.id for u in everyone}
        by_rule = {u.id for u in everyone if policies.administers_account(viewer, facts[u.id])}
        assert by_sql == by_rule, admin.admin_areas
        # Each admin administers some and not others: the comparison means something.
        if admin.admin_areas != ["13"]:
            assert 0 < len(by_rule) < len(everyone)
