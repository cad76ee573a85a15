"""Big groups: the members of a group block come by pages, JS on and off, in bounded queries."""

import re

from factories import make_group, make_user
from support.queries import QueryCounter

from app.domain.groups import lists as groups

HX = {"HX-Request": "true", "HX-Current-URL": "http://testserver/groupes"}


def member_ids(page, group) -> list[str]:
    table = page.find("table", id=f"membres-{group.id}")
    prefix = f"membre-{group.id}-"
    return [tr["id"].removeprefix(prefix) for tr in table.find_all("tr", id=re.compile(prefix))]


async def big_group(size: int):
    caf = await make_group(name="CAF des grands nombres")
    boss = await make_user(manager_of=[caf], last_name="Aaa")
    members = [boss] + [
        await make_user(helper_in=[caf], last_name=f"Nom{i:02d}") for i in range(size - 1)
    ]
    return caf, boss, members


async def test_the_group_page_shows_members_by_pages_without_js(client, login, monkeypatch):
    monkeypatch.setattr(groups, "MEMBERS_PAGE_SIZE", 3)
    caf, boss, members = await big_group(8)
    await login(boss)
    seen = []
    _, page = await client.page(f"/groupes/{caf.id}")
    for expected in (1, 2, 3):
        ids = member_ids(page, caf)
        assert len(ids) == (3 if expected < 3 else 2)
        seen += ids
        assert (
            f"{expected} / 3" in page.find("nav", attrs={"aria-label": re.compile("membres")}).text
        )
        following = page.find("a", string="Membres suivants")
        if expected < 3:
            assert following["href"] == f"/groupes/{caf.id}?membres={expected + 1}"
            _, page = await client.page(following["href"])
        else:
            assert following is None
    # Every member once, in name order.
    assert seen == [str(m.id) for m in members]
    # A page past the end shows the last one, not an empty table.
    _, page = await client.page(f"/groupes/{caf.id}?membres=99")
    assert member_ids(page, caf) == seen[-2:]


async def test_a_small_group_has_no_pager(client, login):
    caf, boss, members = await big_group(3)
    await login(boss)
    _, page = await client.page(f"/groupes/{caf.id}")
    assert len(member_ids(page, caf)) == 3
    assert page.find("a", string="Membres suivants") is None


async def test_htmx_pages_swap_the_block_on_my_groups(client, login, monkeypatch):
    monkeypatch.setattr(groups, "MEMBERS_PAGE_SIZE", 3)
    caf, boss, members = await big_group(5)
    await login(boss)
    _, page = await client.page("/groupes")
    link = page.find("a", string="Membres suivants")
    assert link["hx-get"] == f"/groupes/{caf.id}?membres=2"
    assert link["hx-target"] == f"#groupe-{caf.id}"
    response = await client.get(link["hx-get"], headers=HX)
    assert response.status_code == 200
    assert response.text.lstrip().startswith("<section")
    assert str(members[3].id) in response.text and str(members[0].id) not in response.text


async def test_editing_a_member_of_a_later_page_without_js(client, login, monkeypatch):
    monkeypatch.setattr(groups, "MEMBERS_PAGE_SIZE", 3)
    caf, boss, members = await big_group(8)
    last = members[-1]
    await login(boss)
    url = f"/groupes/{caf.id}/membres/{last.id}"
    _, page = await client.page(url + "/edition")
    # The edit form is on the page shown: the page that holds this member.
    assert page.find("form", id=f"f-membre-{caf.id}-{last.id}") is not None
    response = await client.post_form(url, {"first_name": "Zoé"})
    assert response.status_code == 303
    _, page = await client.page(response.headers["location"])
    assert str(last.id) in member_ids(page, caf)
    assert "Zoé" in page.find(id=f"membre-{caf.id}-{last.id}").text


async def test_my_groups_queries_do_not_grow_with_members(client, login, monkeypatch):
    monkeypatch.setattr(groups, "MEMBERS_PAGE_SIZE", 3)
    caf, boss, members = await big_group(4)
    await login(boss)
    counter = QueryCounter(monkeypatch)

    async def queries() -> int:
        counter.count = 0
        response = await client.get("/groupes")
        assert response.status_code == 200
        return counter.count

    before = await queries()
    for i in range(6):
        await make_user(helper_in=[caf], last_name=f"Plus{i}")
    assert await queries() == before
