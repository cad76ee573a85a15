"""Every demande e-mail renders (the /dev/mails previews use the same contexts)."""

import pytest

from app import emails

EVENTS = ["new_application", "new_answer", "invitation", "new_application_bal", "new_answer_bal"]


@pytest.mark.parametrize("event", EVENTS)
def test_preview_renders_with_the_link(event):
    subject, text, html = emails.render_email(event, emails.PREVIEWS[event])
    assert subject.startswith("[A+] ")
    assert emails.PREVIEWS[event]["url"] in text and emails.PREVIEWS[event]["url"] in html
