"""The erasure proof (issue 11): 91 days after archiving, no trace of a demande's personal data
is left in any column of any table, found from information_schema so a future column is
covered too; 89 days after, everything is still there; the statistics survive the wipe."""

from __future__ import annotations

from datetime import date

import pytest
from factories import make_user

from app import clock
from app.domain import applications, files, inbox, sessions
from app.jobs.queue import enqueue
from app.jobs.registry import count_runs
from app.tables import (
    Answer,
    Application,
    ApplicationGroup,
    Attachment,
    Mandat,
    User,
)

pytest_plugins = ["support.demandes"]

DAY = 86400
PDF = b"%PDF-1.4 avis de situation"
TEXT_TYPES = ("text", "character varying", "character", "json", "jsonb", "tsvector")


def markers(prefix: str) -> dict[str, str]:
    """One distinct word per personal field, so a leftover names its source."""
    names = [
        "subject",
        "first_name",
        "last_name",
        "description",
        "signature",
        "usager_field",
        "creation_key",
        "public_body",
        "public_signature",
        "private_body",
        "private_signature",
        "invitation_body",
        "invitation_signature",
        "added_field",
        "file_name",
        "creation_file_name",
    ]
    return {name: f"{prefix}{i:02d}" for i, name in enumerate(names)}


async def make_marked_demande(world, m: dict[str, str]) -> Application:
    application = await applications.create_application(
        creator=world.aidant,
        creator_group=world.fs.id,
        area="75",
        subject=f"Prestation {m['subject']} suspendue",
        usager_first_name=m["first_name"],
        usager_last_name=m["last_name"],
        usager_birth_date=date(1985, 3, 2),
        description=f"Situation {m['description']} depuis mars.",
        groups=[world.caf.id],
        usager_fields=[{"code": "caf", "value": m["usager_field"]}],
        mandat_kind="sms",
        mandat_date=date(2026, 1, 5),
        signature=f"{m['signature']} service accueil",
        creation_key=m["creation_key"],
    )
    await files.store(
        files.check_file(f"{m['creation_file_name']}.pdf", PDF),
        application_id=application.id,
        uploader_id=world.aidant.id,
    )
    public = await applications.post_answer(
        application.id,
        world.caf_agent,
        body=f"Réponse {m['public_body']}",
        signature=m["public_signature"],
    )
    await files.store(
        files.check_file(f"{m['file_name']}.pdf", PDF),
        application_id=application.id,
        uploader_id=world.caf_agent.id,
        answer_id=public.id,
    )
    await applications.post_answer(
        application.id,
        world.caf_agent,
        body=f"Note interne {m['private_body']}",
        visibility="instructors",
        signature=m["private_signature"],
    )
    await applications.invite(
        application.id,
        world.caf_agent,
        group_ids=[world.cpam.id],
        body=f"Pouvez-vous regarder {m['invitation_body']}",
        signature=m["invitation_signature"],
    )
    await applications.post_answer(
        application.id,
        world.aidant,
        kind="usager_fields",
        added_fields=[{"code": "nir", "value": m["added_field"]}],
    )
    await Application.update({Application.usefulness: "oui"}).where(
        Application.id == application.id
    )
    await applications.archive(application.id, world.aidant, "oui")
    return application


async def scanned_columns() -> list[tuple[str, str, str, str]]:
    """Every text-like column of every table of the application's schemas."""
    rows = await Application.raw(
        "SELECT c.table_schema, c.table_name, c.column_name, c.data_type, c.udt_name"
        " FROM information_schema.columns c JOIN information_schema.tables t"
        " ON t.table_schema = c.table_schema AND t.table_name = c.table_name"
        " WHERE t.table_type = 'BASE TABLE'"
        " AND c.table_schema NOT IN ('pg_catalog', 'information_schema')"
        " AND (c.data_type = ANY({}) OR c.data_type = 'bytea'"
        "      OR (c.data_type = 'ARRAY' AND c.udt_name IN ('_text', '_varchar', '_bpchar')))",
        list(TEXT_TYPES),
    )
    return [(r["table_schema"], r["table_name"], r["column_name"], r["data_type"]) for r in rows]


async def where_found(words: list[str]) -> dict[str, list[str]]:
    """For each word, the `table.column`s holding it, whatever their type (one query a column)."""
    found: dict[str, list[str]] = {word: [] for word in words}
    for schema, table, column, data_type in await scanned_columns():
        target = f'"{schema}"."{table}"."{column}"'
        if data_type == "bytea":
            condition = f"position(convert_to(w, 'UTF8') in {target}) > 0"
        else:
            condition = f"lower({target}::text) LIKE '%' || w || '%'"
        rows = await Application.raw(
            f'SELECT DISTINCT w FROM "{schema}"."{table}", unnest({{}}::text[]) w'
            f" WHERE {condition}",
            [w.lower() for w in words],
        )
        for row in rows:
            found[row["w"]].append(f"{table}.{column}")
    return found


async def viewer_of(user):
    row = await User.select().where(User.id == user.id).first()
    return await sessions.build_viewer(row)


@pytest.fixture
async def two_archived_demandes(world):
    """Demande "old" archived at day 0, "young" at day 2, then the clock at day 91."""
    old_markers, young_markers = markers("qzxold"), markers("qzxnew")
    old = await make_marked_demande(world, old_markers)
    clock.travel(2 * DAY)
    young = await make_marked_demande(world, young_markers)
    clock.travel(89 * DAY + 60)
    return old, young, old_markers, young_markers


async def test_the_wipe_leaves_no_marker_anywhere_and_keeps_the_statistics(
    world,
    two_archived_demandes,
    run_jobs,
):
    old, young, old_markers, young_markers = two_archived_demandes
    before = await Application.select().where(Application.id == old.id).first()
    answers_before = await Answer.select(
        Answer.kind, Answer.visibility, Answer.created_at, Answer.author, Answer.invited
    ).where(Answer.application == old.id)
    old_files = await Attachment.select().where(Attachment.application == old.id)
    # Every marker is somewhere before the job: the scan does find what it looks for.
    everything = [*old_markers.values(), *young_markers.values()]
    assert [w for w, where in (await where_found(everything)).items() if not where] == []

    # Other tests' workers may have recorded runs of their own: count this one.
    runs_before = await count_runs("wipe_personal_data")
    await enqueue("wipe_personal_data", key="cron:wipe_personal_data")
    await run_jobs()

    assert await count_runs("wipe_personal_data") == runs_before + 1
    found = await where_found(everything)
    assert {w: found[w] for w in old_markers.values() if found[w]} == {}
    # The demande archived 89 days ago keeps everything.
    assert [w for w in young_markers.values() if not found[w]] == []

    after = await Application.select().where(Application.id == old.id).first()
    assert after["personal_data_wiped_at"] is not None
    assert after["usager_birth_date"] is None
    for kept in (
        "status",
        "created_at",
        "archived_at",
        "first_answer_at",
        "last_answer_at",
        "updated_at",
        "area",
        "creator",
        "creator_group",
        "usefulness",
        "is_irrelevant",
        "answers_count",
    ):
        assert after[kept] == before[kept], kept
    assert after["status"] == "archived" and after["usefulness"] == "oui"
    assert await ApplicationGroup.count().where(ApplicationGroup.application == old.id) == 2
    assert (
        await Answer.select(
            Answer.kind, Answer.visibility, Answer.created_at, Answer.author, Answer.invited
        ).where(Answer.application == old.id)
        == answers_before
    )
    assert not await Mandat.exists().where(Mandat.application == old.id)
    assert await Mandat.exists().where(Mandat.application == young.id)
    wiped_files = await Attachment.select().where(Attachment.application == old.id)
    assert [(f["size"], f["content_type"], f["created_at"]) for f in wiped_files] == [
        (f["size"], f["content_type"], f["created_at"]) for f in old_files
    ]
    assert all(f["deleted_at"] and f["filename"] == "" for f in wiped_files)
    for f in wiped_files:
        assert not files._path(f["id"]).exists()
    for f in await Attachment.select().where(Attachment.application == young.id):
        assert files._path(f["id"]).exists()

    # A second run finds nothing more to do.
    assert (await applications_wiped_again())["demandes"] == 0


async def applications_wiped_again() -> dict:
    from app.jobs import retention

    return await retention.wipe_personal_data({})


async def test_a_wiped_demande_stays_in_the_archive_but_no_search_finds_it(
    world,
    two_archived_demandes,
):
    from app.jobs import retention

    old, young, _, young_markers = two_archived_demandes
    await retention.wipe_personal_data({})
    for user in (world.aidant, world.caf_agent):
        viewer = await viewer_of(user)
        archive = await inbox.load_page(viewer, tab_key="archivees")
        rows = {r.id: r for r in archive.rows}
        assert rows[old.id].wiped_at is not None
        assert rows[old.id].subject == "" and rows[old.id].usager_name == ""
        assert young.id in rows
        # Not even by a participant's name, which the vectors of live demandes hold.
        for query in ("Prestation", "suspendue", user.last_name or "x", "qzxold00"):
            found = await inbox.load_page(viewer, tab_key="archivees", query=query)
            assert old.id not in [r.id for r in found.rows], query
        found = await inbox.load_page(viewer, tab_key="archivees", query=young_markers["subject"])
        assert [r.id for r in found.rows] == [young.id]


async def test_no_answer_can_revive_a_wiped_demande(world, two_archived_demandes):
    from app.jobs import retention

    old, _, _, _ = two_archived_demandes
    await retention.wipe_personal_data({})
    with pytest.raises(applications.WipedError):
        await applications.reopen(old.id, world.aidant)
    with pytest.raises(applications.WipedError):
        await applications.post_answer(old.id, world.aidant, body="Encore là ?")
    assert (await Application.select().where(Application.id == old.id).first())[
        "status"
    ] == "archived"


async def test_the_creator_opens_it_as_metadata_and_cannot_reopen_it(
    client,
    login,
    world,
    two_archived_demandes,
):
    from app.jobs import retention

    old, _, _, _ = two_archived_demandes
    await retention.wipe_personal_data({})
    await login(world.aidant)
    response, page = await client.page(f"/demandes/{old.id}")
    assert response.status_code == 200
    assert "Données personnelles supprimées le" in page.select_one("#donnees-supprimees").text
    assert page.select_one("form[action$='/reouverture']") is None
    assert page.select_one("form[action$='/reponses']") is None
    assert "Message supprimé le" in page.select_one("#fil").text
    assert "qzxold" not in response.text

    refused = await client.post_form(f"/demandes/{old.id}/reouverture")
    assert refused.status_code == 409
    assert "ne peut plus être rouverte" in refused.text
    answered = await client.post_form(f"/demandes/{old.id}/reponses", {"body": "Relance"})
    assert answered.status_code == 403
    assert (await Application.select().where(Application.id == old.id).first())[
        "status"
    ] == "archived"

    _, inbox_page = await client.page("/demandes?onglet=archivees")
    row = inbox_page.select_one(f"#demande-{old.id}")
    assert row is not None and "Données personnelles supprimées le" in row.text


async def test_a_stranger_gets_the_usual_refusal(client, login, world, two_archived_demandes):
    from app.jobs import retention

    old, _, _, _ = two_archived_demandes
    await retention.wipe_personal_data({})
    await login(await make_user(helper_in=[world.fs]))
    assert (await client.post_form(f"/demandes/{old.id}/reouverture")).status_code == 404
