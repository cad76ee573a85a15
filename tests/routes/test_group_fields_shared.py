"""The group's texts are checked by one function on the group page and the admin screen."""

from bs4 import BeautifulSoup
from factories import make_group, make_user

from app.tables import Group

LONG = "x" * 301
MESSAGE = "La description courte ne doit pas dépasser 300 caractères."


def _error(response, name):
    return BeautifulSoup(response.text, "html.parser").find(id=f"{name}-erreur").text.strip()


async def test_same_errors_on_the_group_page_and_the_admin_screen(client, login):
    group = await make_group(name="CAF Paris", areas=["75"])
    boss = await make_user(manager_of=[group], member_of=[group])
    await login(boss)
    bad = {"name": "CAF Paris", "short_description": LONG, "bal_email": "pas-une-adresse"}
    page = await client.post_form(f"/groupes/{group.id}/presentation", bad)
    assert page.status_code == 422
    assert _error(page, "short_description") == MESSAGE
    bal_error = _error(page, "bal_email")

    await login(await make_user(admin=True, admin_areas=["75"]))
    admin = await client.post_form(
        f"/admin/groupes/{group.id}", {**bad, "organisation": "caf", "areas": "75"}
    )
    assert admin.status_code == 422
    assert _error(admin, "short_description") == MESSAGE
    assert _error(admin, "bal_email") == bal_error
    assert (await Group.objects().get(Group.id == group.id)).short_description == ""
