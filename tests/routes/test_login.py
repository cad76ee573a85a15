"""Magic-link login, sessions, CGU, profile, through the real app, database and SMTP sink."""

import logging
import re

import pytest
from bs4 import BeautifulSoup
from factories import make_group, make_user

from app import clock
from app.domain import sessions
from app.tables import AuditEvent, LoginToken, User, UserSession

LINK = re.compile(r"http://testserver(/connexion/lien/[\w-]+)")


async def request_link(client, email, **extra):
    return await client.post_form("/connexion", {"email": email, **extra})


async def link_from_mail(mailbox, run_jobs, address):
    await run_jobs()
    mails = mailbox.to(address)
    assert mails, f"no mail for {address}"
    return LINK.search(mails[-1].text).group(1)


async def test_link_request_mail_confirmation_page_then_post_logs_in(client, db, mailbox, run_jobs):
    group = await make_group()
    user = await make_user(helper_in=[group], email="alice@caf.fr")

    response = await request_link(client, "Alice@CAF.fr")
    assert response.status_code == 303
    assert response.headers["location"] == "/connexion/envoye"

    path = await link_from_mail(mailbox, run_jobs, "alice@caf.fr")
    mail = mailbox.to("alice@caf.fr")[-1]
    assert mail.subject == "[A+] Votre lien de connexion"
    token = await LoginToken.objects().where(LoginToken.user == user.id).first()
    expiry = token.expires_at.astimezone(__import__("zoneinfo").ZoneInfo("Europe/Paris"))
    assert expiry.strftime("%H:%M") in mail.text
    # Only the hash is stored.
    assert path.rsplit("/", 1)[1] not in token.token_hash

    page = await client.get(path)
    assert page.status_code == 200
    assert "Me connecter" in page.text
    assert sessions.SESSION_COOKIE not in client.cookies
    assert (await LoginToken.objects().where(LoginToken.user == user.id).first()).used_at is None

    confirmed = await client.post_form(path)
    assert confirmed.status_code == 303
    assert sessions.SESSION_COOKIE in client.cookies
    home = await client.get("/profil")
    assert home.status_code == 200
    assert "alice@caf.fr" in home.text
    assert await AuditEvent.exists().where(
        (AuditEvent.code == "login_succeeded") & (AuditEvent.actor_id == user.id)
    )


async def test_link_cannot_be_reused(client, db, mailbox, run_jobs):
    await make_user(helper_in=[await make_group()], email="bob@caf.fr")
    await request_link(client, "bob@caf.fr")
    path = await link_from_mail(mailbox, run_jobs, "bob@caf.fr")
    assert (await client.post_form(path)).status_code == 303
    client.cookies.delete(sessions.SESSION_COOKIE)
    again = await client.post_form(path)
    assert again.status_code == 410
    assert "déjà été utilisé" in again.text
    assert "M'envoyer un nouveau lien" in again.text
    assert sessions.SESSION_COOKIE not in client.cookies


async def test_link_expires_after_30_minutes_and_one_click_resends(client, db, mailbox, run_jobs):
    await make_user(helper_in=[await make_group()], email="chloe@caf.fr")
    await request_link(client, "chloe@caf.fr")
    path = await link_from_mail(mailbox, run_jobs, "chloe@caf.fr")

    clock.travel(29 * 60)
    assert (await client.get(path)).status_code == 200
    clock.travel(61)
    expired = await client.get(path)
    assert expired.status_code == 410
    assert "a expiré" in expired.text
    refused = await client.post_form(path)
    assert refused.status_code == 410
    assert sessions.SESSION_COOKIE not in client.cookies

    mailbox.messages.clear()
    resent = await client.post_form(path + "/nouveau")
    assert resent.status_code == 303
    fresh = await link_from_mail(mailbox, run_jobs, "chloe@caf.fr")
    assert fresh != path
    assert (await client.post_form(fresh)).status_code == 303


async def test_unknown_address_gets_the_same_answer_and_no_mail(client, db, mailbox, run_jobs):
    await make_user(helper_in=[await make_group()], email="known@caf.fr")
    known = await request_link(client, "known@caf.fr")
    unknown = await request_link(client, "nobody@caf.fr")
    assert known.status_code == unknown.status_code == 303
    assert known.headers["location"] == unknown.headers["location"]
    page = await client.get(unknown.headers["location"])
    assert "Si cette adresse a un compte" in page.text
    assert "responsable de votre groupe" in page.text
    await run_jobs()
    assert mailbox.to("known@caf.fr")
    assert not mailbox.to("nobody@caf.fr")


async def test_htmx_login_request_returns_the_panel(client, db):
    response = await client.post_form(
        "/connexion", {"email": "x@caf.fr"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    soup = BeautifulSoup(response.text, "html.parser")
    assert soup.select_one("#connexion-panel")
    assert not soup.select_one("header")


async def test_invalid_address_is_a_french_error_with_input_kept(client, db):
    response = await request_link(client, "pas-une-adresse")
    assert response.status_code == 400
    soup = BeautifulSoup(response.text, "html.parser")
    assert soup.select_one("#champ-email")["value"] == "pas-une-adresse"
    assert "n'est pas valide" in soup.select_one("#erreur-email").text


async def test_rate_limit_per_email_triggers_and_releases(client, db, mailbox, run_jobs):
    await make_user(helper_in=[await make_group()], email="dan@caf.fr")
    for _ in range(5):
        assert (await request_link(client, "dan@caf.fr")).status_code == 303
    refused = await request_link(client, "dan@caf.fr")
    assert refused.status_code == 429
    assert "Trop de demandes de lien" in refused.text
    assert await AuditEvent.exists().where(AuditEvent.code == "login_link_rate_limited")
    clock.travel(10 * 60 + 1)
    assert (await request_link(client, "dan@caf.fr")).status_code == 303


async def test_rate_limit_per_client_address(client, db):
    for n in range(30):
        assert (await request_link(client, f"user{n}@caf.fr")).status_code == 303
    assert (await request_link(client, "one-more@caf.fr")).status_code == 429


async def test_disabled_user_is_out_on_next_request(client, db, login):
    user = await make_user(helper_in=[await make_group()])
    await login(user)
    assert (await client.get("/profil")).status_code == 200
    await User.update({User.disabled_at: clock.now()}).where(User.id == user.id)
    response = await client.get("/profil")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/connexion")


async def test_disabled_user_gets_no_link(client, db, mailbox, run_jobs):
    await make_user(helper_in=[await make_group()], email="off@caf.fr", cgu=True)
    await User.update({User.disabled_at: clock.now()}).where(User.email == "off@caf.fr")
    assert (await request_link(client, "off@caf.fr")).status_code == 303
    await run_jobs()
    assert not mailbox.to("off@caf.fr")


async def test_logout_kills_the_session_server_side(client, db, login):
    user = await make_user(helper_in=[await make_group()])
    await login(user)
    raw = client.cookies[sessions.SESSION_COOKIE]
    response = await client.post_form("/deconnexion")
    assert response.status_code == 303
    session = (
        await UserSession.objects().where(UserSession.id_hash == sessions.token_hash(raw)).first()
    )
    assert session.revoked_at is not None
    # Replaying the old cookie does not work.
    client.cookies.set(sessions.SESSION_COOKIE, raw, domain="testserver.local")
    assert (await client.get("/profil")).status_code == 303


async def test_session_idle_limit_and_lifetime(client, db, login):
    user = await make_user(helper_in=[await make_group()])
    await login(user)
    clock.travel(6 * 86400)
    assert (await client.get("/profil")).status_code == 200  # slides the idle limit
    clock.travel(6 * 86400)
    assert (await client.get("/profil")).status_code == 200
    clock.travel(8 * 86400)
    assert (await client.get("/profil")).status_code == 303


async def test_session_id_rotates_at_login(client, db, mailbox, run_jobs, login):
    user = await make_user(helper_in=[await make_group()], email="eve@caf.fr")
    await login(user)
    before = client.cookies[sessions.SESSION_COOKIE]
    await request_link(client, "eve@caf.fr")
    path = await link_from_mail(mailbox, run_jobs, "eve@caf.fr")
    await client.post_form(path)
    after = client.cookies[sessions.SESSION_COOKIE]
    assert after != before
    old = (
        await UserSession.objects()
        .where(UserSession.id_hash == sessions.token_hash(before))
        .first()
    )
    assert old.revoked_at is not None


async def test_session_cookie_flags(client, db, mailbox, run_jobs):
    await make_user(helper_in=[await make_group()], email="flags@caf.fr")
    await request_link(client, "flags@caf.fr")
    path = await link_from_mail(mailbox, run_jobs, "flags@caf.fr")
    response = await client.post_form(path)
    cookie = next(
        v
        for k, v in response.headers.multi_items()
        if k == "set-cookie" and v.startswith(sessions.SESSION_COOKIE)
    )
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie or "samesite=lax" in cookie.lower()


async def test_first_login_goes_through_cgu_and_back_to_the_asked_page(client, db, login):
    user = await make_user(helper_in=[await make_group()], cgu=False)
    await login(user)
    response = await client.get("/profil")
    assert response.status_code == 303
    assert response.headers["location"] == "/cgu?suivant=%2Fprofil"

    page = await client.get(response.headers["location"])
    soup = BeautifulSoup(page.text, "html.parser")
    assert "Conditions générales" in page.text
    assert soup.select_one("input[name=suivant]")["value"] == "/profil"

    refused = await client.post_form(
        "/cgu",
        {"first_name": "Ana", "last_name": "", "qualite": "", "phone": "12", "suivant": "/profil"},
    )
    assert refused.status_code == 400
    soup = BeautifulSoup(refused.text, "html.parser")
    assert soup.select_one("#champ-first_name")["value"] == "Ana"
    assert soup.select_one("#erreur-phone")
    assert soup.select_one("#erreur-accepte")

    accepted = await client.post_form(
        "/cgu",
        {
            "first_name": "Ana",
            "last_name": "Lopez",
            "qualite": "Conseillère",
            "phone": "0612345678",
            "accepte": "oui",
            "suivant": "/profil",
        },
    )
    assert accepted.status_code == 303
    assert accepted.headers["location"] == "/profil"
    saved = await User.objects().where(User.id == user.id).first()
    assert saved.cgu_version is not None and saved.phone == "06 12 34 56 78"
    assert (await client.get("/profil")).status_code == 200


async def test_collective_account_is_not_asked_a_phone(client, db, login):
    user = await make_user(helper_in=[await make_group()], cgu=False, collective=True)
    await login(user)
    page = await client.get("/cgu")
    assert 'name="phone"' not in page.text
    accepted = await client.post_form(
        "/cgu",
        {"first_name": "Accueil", "last_name": "Mairie", "qualite": "Accueil", "accepte": "oui"},
    )
    assert accepted.status_code == 303


@pytest.mark.parametrize("target", ["https://evil.example", "//evil.example", "/\\evil.example"])
async def test_external_redirect_targets_are_ignored(client, db, login, target):
    user = await make_user(helper_in=[await make_group()], cgu=False)
    await login(user)
    accepted = await client.post_form(
        "/cgu",
        {
            "first_name": "A",
            "last_name": "B",
            "qualite": "C",
            "phone": "0612345678",
            "accepte": "oui",
            "suivant": target,
        },
    )
    assert accepted.headers["location"] == "/"


async def test_external_next_path_of_a_login_link_is_ignored(client, db, mailbox, run_jobs):
    await make_user(helper_in=[await make_group()], email="next@caf.fr")
    await request_link(client, "next@caf.fr", suivant="https://evil.example/")
    path = await link_from_mail(mailbox, run_jobs, "next@caf.fr")
    response = await client.post_form(path)
    assert response.headers["location"] == "/demandes"  # the aidant's own home instead


async def test_login_returns_to_the_asked_page(client, db, mailbox, run_jobs):
    await make_user(helper_in=[await make_group()], email="back@caf.fr")
    asked = await client.get("/profil")
    assert asked.headers["location"] == "/connexion?suivant=%2Fprofil"
    page = await client.get(asked.headers["location"])
    soup = BeautifulSoup(page.text, "html.parser")
    assert soup.select_one("input[name=suivant]")["value"] == "/profil"
    await request_link(client, "back@caf.fr", suivant="/profil")
    path = await link_from_mail(mailbox, run_jobs, "back@caf.fr")
    assert (await client.post_form(path)).headers["location"] == "/profil"


async def test_profile_edit_keeps_email_read_only(client, db, login):
    user = await make_user(helper_in=[await make_group()], email="prof@caf.fr")
    await login(user)
    page = await client.get("/profil")
    soup = BeautifulSoup(page.text, "html.parser")
    # Shown as text, not as an input that looks editable.
    email = soup.select_one("#champ-email")
    assert email.name == "p" and email.get_text(strip=True) == "prof@caf.fr"
    assert not soup.select("input[type=email], input[name=email]")
    assert "ne peut modifier l'adresse e-mail" in page.text
    bad = await client.post_form(
        "/profil",
        {"first_name": "Zoé", "last_name": "N", "qualite": "Q", "phone": "abc", "email": "x@y.fr"},
    )
    assert bad.status_code == 400
    assert BeautifulSoup(bad.text, "html.parser").select_one("#champ-first_name")["value"] == "Zoé"
    ok = await client.post_form(
        "/profil",
        {
            "first_name": "Zoé",
            "last_name": "N",
            "qualite": "Q",
            "phone": "01 23 45 67 89",
            "email": "x@y.fr",
        },
    )
    assert ok.status_code == 303
    saved = await User.objects().where(User.id == user.id).first()
    assert (saved.first_name, saved.email) == ("Zoé", "prof@caf.fr")
    assert await AuditEvent.exists().where(AuditEvent.code == "profile_updated")


async def test_authenticated_pages_are_not_cached(client, db, login):
    await login(await make_user(helper_in=[await make_group()]))
    response = await client.get("/profil")
    assert response.headers["cache-control"] == "no-store"


async def test_login_journey_logs_no_personal_data(client, db, mailbox, run_jobs, caplog):
    await make_user(
        helper_in=[await make_group()],
        email="secret.person@caf.fr",
        first_name="Secretfirst",
        last_name="Secretlast",
    )
    with caplog.at_level(logging.DEBUG):
        await request_link(client, "secret.person@caf.fr")
        path = await link_from_mail(mailbox, run_jobs, "secret.person@caf.fr")
        await client.post_form(path)
        await client.get("/profil")
        await client.post_form("/deconnexion")
    # The test's own HTTP client and SMTP sink log what they see; the application must not.
    app_records = [r for r in caplog.records if not r.name.startswith(("httpx", "mail.log"))]
    logged = "\n".join(r.getMessage() for r in app_records)
    assert logged  # the journey does log (audit lines, job lines)
    for secret in ("secret.person", "caf.fr", "Secretfirst", "Secretlast", path.rsplit("/", 1)[1]):
        assert secret not in logged


async def test_first_login_link_leads_to_the_cgu_then_the_asked_page(client, db, mailbox, run_jobs):
    await make_user(helper_in=[await make_group()], email="new@caf.fr", cgu=False)
    await request_link(client, "new@caf.fr", suivant="/profil")
    path = await link_from_mail(mailbox, run_jobs, "new@caf.fr")
    response = await client.post_form(path)
    assert response.headers["location"] == "/cgu?suivant=%2Fprofil"
    home = await client.get("/")
    assert home.status_code == 303 and home.headers["location"].startswith("/cgu")
