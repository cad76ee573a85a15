"""Every e-mail of the service (spec §6): HTML and text, "[A+]" subject, a link, a preview."""

from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from support.smtp import LINK

from app import emails

TEMPLATES = Path(emails.__file__).parent / "templates" / "emails"
EVENTS = sorted(p.name.removesuffix(".subject.txt") for p in TEMPLATES.glob("*.subject.txt"))


def test_the_service_sends_every_email_of_the_spec():
    assert set(EVENTS) == set(emails.PREVIEWS)
    for event in (
        "login_link",
        "welcome",
        "new_application",
        "new_answer",
        "late_reminder",
        "experts_added",
        "weekly_recap",
        "inactivity_first",
        "inactivity_last",
        "daily_digest",
    ):
        assert event in EVENTS


@pytest.mark.parametrize("event", EVENTS)
def test_each_email_has_a_subject_a_text_and_an_html_part_with_a_link(event):
    subject, text, html = emails.render_email(event, emails.PREVIEWS[event])
    assert subject.startswith("[A+] ") and "\n" not in subject
    text_links = LINK.findall(text)
    html_links = [a["href"] for a in BeautifulSoup(html, "html.parser").select("a[href]")]
    assert text_links and html_links
    assert set(html_links) <= set(text_links)  # the same links in both parts
    assert 'lang="fr"' in html
