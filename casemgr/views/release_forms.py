"""The printable release form (issue 6 item 5), for one student and one organization.

The same page serves the staff who record paper consents (linked from the consent
history) and the family member who signs (linked from the child's page). The form
itself is a family document: it is in the language asked for (`?lang=es`), else the
reader's, while the page around it stays in the reader's language. Opening it shows
who the student is, so it is logged as a read of `identity`.
"""
from __future__ import annotations

import uuid

from flask import Blueprint, abort, render_template, request
from flask_babel import force_locale
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy import select

from casemgr import policy
from casemgr.extensions import db
from casemgr.i18n import LANGUAGE_NAMES, current_language, languages
from casemgr.models import Organization
from casemgr.models.enums import FAMILY, Category
from casemgr.reads.release_form import CATEGORY_DESCRIPTIONS, build_release_form
from casemgr.services import disclosure
from casemgr.views.rendering import render
from casemgr.views.students import load_access_or_404
from casemgr.words.family import CATEGORY_WORDS

bp = Blueprint("release_forms", __name__)


@bp.get("/release-forms/<uuid:student_id>/<uuid:organization_id>")
@login_required
def show(student_id: uuid.UUID, organization_id: uuid.UUID):
    access = load_access_or_404(student_id)
    if not policy.may_print_release_form(access):
        abort(404)
    organization = db.session.scalar(select(Organization).where(Organization.uuid == organization_id))
    language = request.args.get("lang", "")
    if language not in languages():
        language = current_language()
    form = build_release_form(access.student, organization, access.today, language) if organization else None
    if form is None:
        abort(404)
    with force_locale(language):
        document = Markup(render_template("release_forms/_form.html", form=form, words=CATEGORY_WORDS,
                                          descriptions=CATEGORY_DESCRIPTIONS))
    response = render(
        "release_forms/show.html", access=access, form=form, document=document, language=language,
        other_languages=[(code, name) for code, name in LANGUAGE_NAMES.items() if code != language],
        for_family=access.user.role_enum in FAMILY,
    )
    disclosure.log_view(current_user, access.student, {Category.IDENTITY: access.visible[Category.IDENTITY]})
    db.session.commit()
    return response
