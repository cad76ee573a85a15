"""Who is told what about a demande (spec §6): real SMTP sink, real worker, link only."""

from __future__ import annotations

from support.demande_forms import creation_form

from app.tables import Application

pytest_plugins = ["support.demandes"]

SECRETS = (
    "Aide au logement suspendue",  # subject
    "Élodie",
    "Dupontel",  # usager
    "Situation très particulière",  # description
    "Le droit est rétabli",  # public message
    "Entre nous",  # private message
    "Dossier transféré",  # invitation message
)


def recipients(mailbox) -> set[str]:
    return {address for message in mailbox.messages for address in message.to}


def assert_link_only(mailbox, application_id):
    for message in mailbox.messages:
        assert message.subject.startswith("[A+] ")
        assert message.links == [f"http://testserver/demandes/{application_id}"]
        assert f"/demandes/{application_id}" in message.html
        for secret in SECRETS:
            assert secret not in message.text
            assert secret not in message.html
            assert secret not in message.subject
        # One recipient per e-mail: nobody learns who else was told.
        assert len(message.to) == 1


async def create(client, login, world, **kw):
    await login(world.aidant)
    response = await client.post_form("/demandes/nouvelle", creation_form(world, **kw))
    assert response.status_code == 303
    return await Application.objects().first()


async def test_new_demande_tells_invited_instructors_and_the_bal(
    client, login, world, mailbox, run_jobs
):
    application = await create(client, login, world, colleagues=[str(world.colleague.id)])
    await run_jobs()
    # The creator's own colleague is not told; the CAF instructeurs and the CAF BAL are.
    assert recipients(mailbox) == {"agent1@caf.fr", "agent2@caf.fr", "bal.caf@caf.fr"}
    bal = mailbox.to("bal.caf@caf.fr")[0]
    assert "Nouvelle demande pour CAF de Paris" in bal.subject
    assert "Prénom" in bal.text  # the names of those who can open it (factory names)
    assert_link_only(mailbox, application.id)


async def test_public_answer_tells_everyone_but_the_author_and_colleagues(
    client, login, world, mailbox, run_jobs
):
    application = await create(
        client,
        login,
        world,
        groups=[str(world.caf.id), str(world.cpam.id)],
        colleagues=[str(world.colleague.id)],
    )
    await run_jobs()
    mailbox.messages.clear()
    await login(world.caf_agent)
    await client.post_form(
        f"/demandes/{application.id}/reponses", {"body": "Le droit est rétabli."}
    )
    await run_jobs()
    # Not the author, not the other CAF instructeur, not the CAF BAL; the CPAM BAL is told.
    assert recipients(mailbox) == {
        "aidant@fs.fr",
        "collegue@fs.fr",
        "agent@cpam.fr",
        "bal.cpam@cpam.fr",
    }
    assert_link_only(mailbox, application.id)


async def test_creator_answer_does_not_tell_the_creators_colleagues(
    client, login, world, mailbox, run_jobs
):
    application = await create(client, login, world, colleagues=[str(world.colleague.id)])
    await run_jobs()
    mailbox.messages.clear()
    await client.post_form(f"/demandes/{application.id}/reponses", {"body": "Une précision."})
    await run_jobs()
    assert recipients(mailbox) == {"agent1@caf.fr", "agent2@caf.fr", "bal.caf@caf.fr"}


async def test_private_answer_reaches_instructors_only_and_no_bal(
    client, login, world, mailbox, run_jobs
):
    application = await create(
        client,
        login,
        world,
        groups=[str(world.caf.id), str(world.cpam.id)],
        colleagues=[str(world.colleague.id)],
    )
    await run_jobs()
    mailbox.messages.clear()
    await login(world.caf_agent)
    await client.post_form(
        f"/demandes/{application.id}/reponses", {"body": "Entre nous.", "private": "1"}
    )
    await run_jobs()
    assert recipients(mailbox) == {"agent@cpam.fr"}
    assert_link_only(mailbox, application.id)


async def test_invitation_tells_the_newly_invited_and_their_bal(
    client, login, world, mailbox, run_jobs
):
    application = await create(client, login, world)
    await run_jobs()
    mailbox.messages.clear()
    await login(world.caf_agent)
    await client.post_form(
        f"/demandes/{application.id}/invitations",
        {"groups": [str(world.cpam.id)], "body": "Dossier transféré ?"},
    )
    await run_jobs()
    assert recipients(mailbox) == {"agent@cpam.fr", "bal.cpam@cpam.fr"}
    assert "invité" in mailbox.to("agent@cpam.fr")[0].subject
    assert_link_only(mailbox, application.id)


async def test_archiving_tells_nobody(client, login, world, mailbox, run_jobs):
    application = await create(client, login, world)
    await run_jobs()
    mailbox.messages.clear()
    await client.post_form(f"/demandes/{application.id}/archivage", {"usefulness": "oui"})
    await run_jobs()
    assert mailbox.messages == []
