"""Demandes, one module per resource: creation, the page (and presence), answers,
invitations, archiving and reopening, files, the printable mandat.

Handlers are thin: the guard loads the demande through the viewer's scope (a 404 outside it)
and checks the rule; the handler checks the form (app/domain/application_forms.py,
answer_forms.py), calls one function of app/domain/demande_actions.py, then answers with the
refreshed part of the page for htmx or a 303 with a flash message otherwise.
"""

from litestar import Router

from app.routes.applications import answers, archive, creation, files, invitations, mandat, page

router = Router(
    path="",
    route_handlers=[
        creation.new_application,
        creation.group_picker,
        creation.create_application,
        page.show_application,
        page.presence_fragment,
        mandat.demande_mandat,
        mandat.new_application_mandat,
        answers.post_answer,
        invitations.invite_group_picker,
        invitations.post_invitation,
        archive.archive_application,
        archive.reopen_application,
        files.download_file,
    ],
)
