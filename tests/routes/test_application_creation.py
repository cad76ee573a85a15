"""Creating a demande: every field, errors with values kept, idempotency, the htmx picker."""

from __future__ import annotations

import json

from factories import make_group, make_user
from support.demande_forms import VALID_NIR, creation_form, text

from app.tables import Application, Attachment, AuditEvent, Mandat, Participation

pytest_plugins = ["support.demandes"]


async def test_form_shows_every_field_in_order(client, login, world):
    await login(world.aidant)
    response, page = await client.page("/demandes/nouvelle")
    assert response.status_code == 200
    names = []
    for element in page.select("form.aplus-form [name]"):
        if element["name"] not in names:
            names.append(element["name"])
    expected = [
        "area",
        "creator_group",
        "category",
        "action",
        "groups",
        "subject",
        "usager_first_name",
        "usager_last_name",
        "usager_birth_date",
        "field_nir",
        "mandat_kind",
        "mandat_date",
        "description",
        "files",
        "colleagues",
        "attestation",
    ]
    assert [n for n in names if n in expected] == expected
    # Default territoire: the creator group's département.
    assert page.select_one("#area option[selected]")["value"] == "75"
    # The CAF group shows its description and public note; the Bouches-du-Rhône one is absent.
    picker = page.select_one("#group-picker").get_text(" ")
    assert "CAF de Paris" in picker and "Prestations familiales" in picker
    assert "Joindre le numéro d'allocataire." in picker
    assert "Bouches-du-Rhône" not in picker
    # A group without an active instructeur cannot be addressed.
    assert "France Services Paris 18e" not in picker


async def test_only_aidants_create(client, login, world):
    await login(world.caf_agent)
    assert (await client.get("/demandes/nouvelle")).status_code == 403
    response = await client.post_form("/demandes/nouvelle", creation_form(world))
    assert response.status_code == 403
    # Nothing changed: no demande, participation or mandat was written for this person.
    assert not await Application.exists().where(Application.creator == world.caf_agent.id)
    assert not await Participation.exists().where(Participation.user == world.caf_agent.id)
    assert not await Mandat.exists().where(Mandat.application.creator == world.caf_agent.id)


async def test_creation_invites_groups_and_colleagues_and_records_everything(client, login, world):
    await login(world.aidant)
    response = await client.post_form(
        "/demandes/nouvelle", creation_form(world, colleagues=[str(world.colleague.id)])
    )
    assert response.status_code == 303
    application = await Application.objects().first()
    assert response.headers["location"] == f"/demandes/{application.id}"
    assert application.subject == "Aide au logement suspendue"
    assert application.creator_group == world.fs.id
    assert json.loads(application.usager_fields) == [
        {"code": "nir", "value": VALID_NIR},
        {"code": "caf_id", "value": "1234567"},
    ]
    participants = {
        r["user"]
        for r in await Participation.select(Participation.user).where(
            Participation.application == application.id
        )
    }
    assert participants == {
        world.aidant.id,
        world.colleague.id,
        world.caf_agent.id,
        world.caf_agent2.id,
    }
    mandat = await Mandat.objects().where(Mandat.application == application.id).first()
    assert mandat.kind == "paper"
    codes = [e["code"] for e in await AuditEvent.select(AuditEvent.code)]
    assert "application_created" in codes


async def test_double_submission_creates_one_demande(client, login, world):
    await login(world.aidant)
    form = creation_form(world)
    first = await client.post_form("/demandes/nouvelle", form)
    second = await client.post_form("/demandes/nouvelle", form)
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    assert await Application.count() == 1


async def test_errors_keep_every_value_and_sit_next_to_their_field(client, login, world):
    await login(world.aidant)
    form = creation_form(
        world,
        subject="x" * 151,
        field_nir="185037505600199",
        field_caf_id=None,
        description="   ",
        attestation=None,
        usager_birth_date="31/02/1985",
    )
    response = await client.post_form("/demandes/nouvelle", form)
    assert response.status_code == 400
    assert await Application.count() == 0
    from bs4 import BeautifulSoup

    page = BeautifulSoup(response.text, "html.parser")

    def error_of(field_id):
        field = page.select_one(f"#{field_id}")
        described = field.get("aria-describedby", "").split()
        errors = [page.select_one(f"#{i}") for i in described if i.endswith("-error")]
        assert errors, field_id
        return errors[0].get_text()

    assert "150 caractères" in error_of("subject")
    assert "clé" in error_of("field_nir")
    assert "obligatoire pour CAF" in error_of("field_caf_id")
    assert "Décrivez" in error_of("description")
    assert "attester" in error_of("attestation")
    assert "date" in error_of("usager_birth_date")
    # Values kept.
    assert page.select_one("#usager_first_name")["value"] == "Élodie"
    assert page.select_one("#field_nir")["value"] == "185037505600199"
    assert page.select_one(f"#group-{world.caf.id}").has_attr("checked")
    assert page.select_one("#mandat_kind_paper").has_attr("checked")
    # A summary at the top links to the fields.
    assert page.select_one("#erreurs a[href='#subject']")


async def test_nothing_ticked_and_no_consent(client, login, world):
    await login(world.aidant)
    response = await client.post_form(
        "/demandes/nouvelle", creation_form(world, groups=None, mandat_kind=None)
    )
    assert response.status_code == 400
    assert "Cochez au moins un organisme" in text(response)
    assert "Indiquez comment l'usager a donné son autorisation" in text(response)


async def test_group_of_another_area_cannot_be_slipped_in(client, login, world):
    await login(world.aidant)
    response = await client.post_form(
        "/demandes/nouvelle", creation_form(world, groups=[str(world.caf13.id)])
    )
    assert response.status_code == 400
    assert await Application.count() == 0


async def test_other_territoire_and_dgfip_requires_numero_fiscal(client, login, world):
    dgfip13 = await make_group("dgfip", areas=["13"], name="DDFiP 13")
    await make_user(instructor_in=[dgfip13])
    await login(world.aidant)
    form = creation_form(world, area="13", groups=[str(dgfip13.id)], field_caf_id=None)
    response = await client.post_form("/demandes/nouvelle", form)
    assert response.status_code == 400
    assert "obligatoire pour DGFIP" in text(response)
    form["field_numero_fiscal"] = "1234567890123"
    response = await client.post_form("/demandes/nouvelle", form)
    assert response.status_code == 303
    assert (await Application.objects().first()).area == "13"


async def test_picker_without_javascript_rerenders_the_form_with_values(client, login, world):
    await login(world.aidant)
    form = creation_form(world, area="13", action="refresh", groups=None)
    response = await client.post_form("/demandes/nouvelle", form)
    assert response.status_code == 200
    assert "Bouches-du-Rhône" in response.text
    assert "Élodie" in response.text
    assert "fr-error-text" not in response.text
    assert await Application.count() == 0


async def test_picker_partial_for_htmx_filters_by_category(client, login, world):
    await login(world.aidant)
    response = await client.get(
        "/demandes/nouvelle/organismes",
        params={"area": "75", "category": "sante"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="group-picker">')
    assert "CPAM de Paris" in response.text and "CAF de Paris" not in response.text
    # What is already ticked stays in the list whatever the category.
    response = await client.get(
        "/demandes/nouvelle/organismes",
        params={"area": "75", "category": "sante", "groups": str(world.caf.id)},
        headers={"HX-Request": "true"},
    )
    assert "CAF de Paris" in response.text


async def test_files_at_creation_are_checked_and_stored(client, login, world):
    await login(world.aidant)
    token = await client.csrf_token()
    form = {**creation_form(world), "_csrf_token": token}
    response = await client.post(
        "/demandes/nouvelle",
        data=form,
        files=[("files", ("justificatif.pdf", b"%PDF-1.4 test", "application/pdf"))],
    )
    assert response.status_code == 303
    attachment = await Attachment.objects().first()
    assert attachment.filename == "justificatif.pdf"
    assert attachment.content_type == "application/pdf"

    form = {**creation_form(world), "_csrf_token": token}
    response = await client.post(
        "/demandes/nouvelle",
        data=form,
        files=[("files", ("photo.pdf", b"MZ\x90\x00binary", "application/pdf"))],
    )
    assert response.status_code == 400
    assert "n'est pas accepté" in text(response)
    assert "Élodie" in response.text


async def test_collective_account_must_sign(client, login, world):
    shared = await make_user(helper_in=[world.fs], collective=True)
    await login(shared)
    response = await client.post_form("/demandes/nouvelle", creation_form(world))
    assert response.status_code == 400
    assert "Ce compte est partagé" in text(response)
    response = await client.post_form(
        "/demandes/nouvelle", creation_form(world, signature="Léa Roux, accueil")
    )
    assert response.status_code == 303
    assert (await Application.objects().first()).signature == "Léa Roux, accueil"
    # Remembered for the session: the next form is signed already.
    _, page = await client.page("/demandes/nouvelle")
    assert page.select_one("#signature")["value"] == "Léa Roux, accueil"


async def test_a_forged_key_of_someone_else_creates_a_new_demande(client, login, world):
    await login(world.aidant)
    form = creation_form(world)
    await client.post_form("/demandes/nouvelle", form)
    await login(world.colleague)
    response = await client.post_form(
        "/demandes/nouvelle", creation_form(world, creation_key=form["creation_key"])
    )
    assert response.status_code == 303
    rows = await Application.select(Application.id, Application.creator)
    assert {r["creator"] for r in rows} == {world.aidant.id, world.colleague.id}
    assert (
        response.headers["location"]
        == f"/demandes/{next(r['id'] for r in rows if r['creator'] == world.colleague.id)}"
    )
