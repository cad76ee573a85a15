"""Mes groupes: unique ids with two account-creation forms open; pages and search for the
long lists of national observers."""

from collections import Counter

from bs4 import BeautifulSoup
from factories import make_group, make_user

from app.domain.groups import MY_GROUPS_PAGE_SIZE
from app.tables import ManagerScope

HX = {"HX-Request": "true", "HX-Current-URL": "http://testserver/groupes"}


def _ids(html: str) -> list[str]:
    return [tag["id"] for tag in BeautifulSoup(html, "html.parser").find_all(id=True)]


async def test_two_account_forms_on_my_groups_have_distinct_ids(client, login):
    caf = await make_group(name="CAF")
    cpam = await make_group(name="CPAM", organisation="cpam")
    boss = await make_user(manager_of=[caf, cpam])
    await login(boss)
    response, page = await client.page("/groupes")
    assert response.status_code == 200
    forms = []
    for group in (caf, cpam):
        fragment = await client.get(f"/groupes/{group.id}/comptes/nouveaux?lignes=2", headers=HX)
        # What htmx does: each form lands in its group's block of the same page.
        page.find(id=f"nouveaux-comptes-{group.id}").append(
            BeautifulSoup(fragment.text, "html.parser")
        )
        forms.append(fragment.text)
    duplicates = [i for i, n in Counter(_ids(str(page))).items() if n > 1]
    assert duplicates == []
    # Labels still point at their own inputs; field names stay the same for the server.
    for group in (caf, cpam):
        field = page.find(id=f"nc-{group.id}-l0-email")
        assert field["name"] == "l0-email"
        assert page.find("label", attrs={"for": field["id"]}) is not None
    assert page.find(id=f"nc-{caf.id}-l0-first_name").has_attr("data-aplus-focus")


async def test_national_observer_gets_pages_and_a_search(client, login):
    names = [f"Groupe {i:02d}" for i in range(MY_GROUPS_PAGE_SIZE + 5)]
    for name in names:
        await make_group(name=name, areas=["13"] if name == "Groupe 03" else ["75"])
    observer = await make_user()
    await ManagerScope(user=observer.id, role="observer", organisation=None, area=None).save()
    await login(observer)

    _, page = await client.page("/groupes")
    shown = [h.text.strip() for h in page.select("section.aplus-group h2")]
    assert len(shown) == MY_GROUPS_PAGE_SIZE and shown == sorted(shown)
    assert page.find(id="recherche-groupes") is not None
    assert page.select_one(".fr-pagination a[href*='page=2']") is not None

    _, page2 = await client.page("/groupes?page=2")
    shown2 = [h.text.strip() for h in page2.select("section.aplus-group h2")]
    assert set(shown) | set(shown2) >= set(names) and not set(shown) & set(shown2)

    _, found = await client.page("/groupes?q=groupe+1")
    titles = [h.text.strip() for h in found.select("section.aplus-group h2")]
    assert titles == [f"Groupe {i}" for i in range(10, 20)]
    _, by_area = await client.page("/groupes?q=13")
    titles = [h.text.strip() for h in by_area.select("section.aplus-group h2")]
    assert "Groupe 03" in titles and "Groupe 04" not in titles
    _, none = await client.page("/groupes?q=introuvable")
    assert "Aucun groupe ne correspond à « introuvable »" in none.text


async def test_a_member_of_few_groups_sees_no_search(client, login):
    caf = await make_group()
    await login(await make_user(helper_in=[caf]))
    _, page = await client.page("/groupes")
    assert page.find(id="recherche-groupes") is None
    assert page.select_one(".fr-pagination") is None
    assert page.find(id=f"groupe-{caf.id}") is not None
