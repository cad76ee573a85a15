"""Fuzzing every form and query parameter of the route table: never a 500, never a half write.

The fields come from the app itself: every GET page of the route table is rendered for a
logged-in user who holds every role, its forms are read (action, fields, offered values),
and the names the handlers read (`form.get("…")`, `query_params.get("…")`, signature
parameters) are added, so a forged field no form shows is fuzzed too. Each example sends one
request to one route, mixing valid values with the hostile payload classes of issue 10:
NUL characters, text fields sent as file parts, over-long values, numbers beyond any integer
type, dates at the ends of the calendar, binary files, damaged cookies.

Each example runs in a savepoint rolled back afterwards; an answer >= 400 must leave every
table's row count as it was (audit events and rate-limit hits excepted: refusals are logged).
Bounded and reproducible: a fixed number of derandomized examples.
"""

from __future__ import annotations

import base64
import re
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from bs4 import BeautifulSoup
from factories import make_application, make_group, make_user
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.domain import sessions
from app.piccolo_conf import DB
from app.tables import ALL_TABLES, AuditEvent, RateLimitHit

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = 200
PATH_PARAM = re.compile(r"\{(\w+):(\w+)\}")
# Names the handlers read, whether or not a rendered form shows them.
READ_IN_CODE = re.compile(
    r"(?:query_params\.get|form\.get|form\.getall|data\.get|params\.get)\(\s*\"(\w+)\""
    r"|(?:text|uuids)\(form, \"(\w+)\""
)
COUNTED = [t for t in ALL_TABLES if t not in (AuditEvent, RateLimitHit)]

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
HOSTILE_TEXT = st.one_of(
    st.text(max_size=20).map(lambda t: f"{t}\x00{t}"),  # NUL
    st.sampled_from(
        [
            "x" * 301,  # one past the signature column
            "é" * 10_001,  # one past the message limit
            "a" * 140_000,  # beyond the csv module's cell limit
            "99999999999999999999999",  # beyond bigint
            "-1",
            "0",
            "1e309",
            "NaN",
            "0001-01-01",
            "9999-12-31",
            "31/12/9999",
            "2026-02-30",
            "../../etc/passwd",
            '=HYPERLINK("http://x")',
            "<script>alert(1)</script>",
            "\r\n\t",
            "%00",
            "\u202e\u200b",
        ]
    ),
    st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=40),
)
FILE_CONTENT = st.one_of(
    st.binary(min_size=1, max_size=300),
    st.sampled_from(
        [
            PDF,
            b"groupe;organisme;departements\nCAF;caf;75\n",
            b"\x00\x01\x02\xff\xfe" * 50,
            b"PK\x05\x06" + b"\x00" * 18,
        ]
    ),
)
FLASH_COOKIES = st.one_of(
    st.none(),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_=", max_size=30),
    st.sampled_from(["5", '"texte"', "null", '{"a": 1}', "[1, 2]", '[{"message": null}]']).map(
        lambda j: base64.urlsafe_b64encode(j.encode()).decode()
    ),
)


def _names_read_in_code() -> set[str]:
    names: set[str] = set()
    for path in (ROOT / "app").rglob("*.py"):
        for match in READ_IN_CODE.finditer(path.read_text()):
            names.add(match.group(1) or match.group(2))
    return names


def _routes(app) -> list[tuple[str, str, object]]:
    routes = []
    for route in app.routes:
        if route.path.startswith("/static"):
            continue
        for handler in getattr(route, "route_handlers", []):
            for method in sorted(handler.http_methods or ()):
                if method in ("GET", "POST"):
                    routes.append((route.path, method, handler))
    return routes


async def _row_counts() -> dict[str, int]:
    sql = ", ".join(f'(SELECT count(*) FROM "{t._meta.tablename}")' for t in COUNTED)
    row = (await AuditEvent.raw(f"SELECT ARRAY[{sql}] AS counts"))[0]
    return dict(zip([t._meta.tablename for t in COUNTED], row["counts"], strict=True))


@pytest.fixture
async def world(db):
    group = await make_group(name="CAF fuzz", areas=("75",))
    other = await make_group(name="CPAM fuzz", organisation="cpam", areas=("75",))
    viewer = await make_user(
        helper_in=[group],
        instructor_in=[group],
        manager_of=[group],
        admin=True,
        admin_areas=["75"],
        collective=True,
    )
    colleague = await make_user(helper_in=[group], instructor_in=[other])
    application = await make_application(by=viewer, from_group=group, to=[other])
    ids = {
        "application_id": application.id,
        "group_id": group.id,
        "user_id": colleague.id,
    }
    return {"viewer": viewer, "ids": ids, "raw_session": await sessions.create_session(viewer.id)}


def _as_dict(fields: list[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for name, value in fields:
        grouped.setdefault(name, []).append(value)
    return grouped


def _concrete(path: str, ids: dict, text: str) -> str:
    def value(match: re.Match) -> str:
        name, kind = match.groups()
        if kind == "uuid":
            return str(ids.get(name, uuid.UUID(int=1)))
        return text

    return PATH_PARAM.sub(value, path)


async def _crawl(client, routes, ids) -> tuple[dict[str, list[tuple[str, str]]], set[str]]:
    """Every form the GET pages show: fields (with their offered values) by action path."""
    forms: dict[str, list[tuple[str, str]]] = {}
    names: set[str] = set()
    for path, method, _ in routes:
        if method != "GET" or "{token" in path:
            continue
        response = await client.get(_concrete(path, ids, "x"))
        if not response.headers.get("content-type", "").startswith("text/html"):
            continue
        for form in BeautifulSoup(response.text, "html.parser").select("form"):
            action = form.get("action") or path
            fields = forms.setdefault(action.split("?")[0], [])
            for field in form.select("input[name], textarea[name], select[name]"):
                name = field["name"]
                names.add(name)
                if field.name == "select":
                    fields += [(name, o.get("value", "")) for o in field.select("option")]
                else:
                    fields.append((name, field.get("value") or field.text or ""))
    return forms, names


@pytest.fixture
async def fuzz_plan(app, client, world):
    client.cookies.set(sessions.SESSION_COOKIE, world["raw_session"], domain="testserver.local")
    routes = _routes(app)
    forms, crawled = await _crawl(client, routes, world["ids"])
    names = sorted(crawled | _names_read_in_code() | {"page", "du", "au", "utilisateur"})
    for _, _, handler in routes:
        names += [n for n in handler.parsed_fn_signature.parameters if n not in names]
    names = [n for n in names if n not in ("request", "_csrf_token")]
    assert len(routes) > 40 and len(forms) > 10 and len(names) > 60
    return {"routes": routes, "forms": forms, "names": names}


@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
@given(data=st.data())
async def test_no_input_makes_a_500_or_a_half_write(client, world, fuzz_plan, data):
    routes, forms, names = fuzz_plan["routes"], fuzz_plan["forms"], fuzz_plan["names"]
    path, method, _ = data.draw(st.sampled_from(routes), label="route")
    # Servers cap a URL's length (h11: 64 kB of headers); longer is not a page's input.
    path_text = quote(data.draw(HOSTILE_TEXT, label="path")[:2000], safe="")
    url = _concrete(path, world["ids"], path_text)
    known = forms.get(url, [])

    # Each field: a value a form offers, or a hostile one; plus a few forged names.
    offered: dict[str, list[str]] = {}
    for name, value in known:
        offered.setdefault(name, []).append(value)
    chosen = set(offered) | set(data.draw(st.sets(st.sampled_from(names), max_size=6)))
    fields: list[tuple[str, str]] = []
    for name in sorted(chosen):
        if name == "_csrf_token":
            continue
        valid = st.sampled_from(offered[name]) if name in offered else st.just("")
        fields.append((name, data.draw(st.one_of(valid, valid, HOSTILE_TEXT), label=name)))

    client.cookies.set(sessions.SESSION_COOKIE, world["raw_session"], domain="testserver.local")
    flash = data.draw(FLASH_COOKIES, label="flash cookie")
    if flash is not None:
        client.cookies.set("aplus_flash", flash, domain="testserver.local")
    headers = {"x-csrftoken": await client.csrf_token()}
    if data.draw(st.booleans(), label="htmx"):
        headers["hx-request"] = "true"

    transaction = DB.current_transaction.get()
    savepoint = await transaction.savepoint()
    try:
        before = await _row_counts()
        if method == "GET":
            query = [(name, value[:2000]) for name, value in fields]
            response = await client.get(url, params=query, headers=headers)
        elif data.draw(st.booleans(), label="multipart"):
            files = []
            for name, value in list(fields):
                if name in ("files", "fichier") or data.draw(st.integers(0, 9)) == 0:
                    fields.remove((name, value))
                    content = data.draw(FILE_CONTENT) if name in ("files", "fichier") else value
                    body = content if isinstance(content, bytes) else content.encode()
                    files.append((name, (data.draw(HOSTILE_TEXT) or "f.pdf", body)))
            response = await client.post(
                url, data=_as_dict(fields) or {"x": ""}, files=files or None, headers=headers
            )
        else:
            response = await client.post(url, data=_as_dict(fields), headers=headers)
        assert response.status_code < 500, (method, path, response.status_code)
        if response.status_code >= 400:
            assert await _row_counts() == before, (method, path, response.status_code)
    finally:
        await savepoint.rollback_to()
        await savepoint.release()
        client.cookies.clear()
