"""English and Spanish (SPEC §1, issue 6 item 9) through Flask-Babel.

The language of a request is the signed-in user's saved choice (`users.locale`), else
the choice a signed-out visitor made (a cookie), else the browser's best match among
the languages we have, else English. Family pages (and the layout parts a family sees)
are translated; staff pages are English for now.

Catalog commands (run from the repository root):

    pybabel extract -F babel.cfg -k _l -o casemgr/translations/messages.pot .
    pybabel update -i casemgr/translations/messages.pot -d casemgr/translations
    pybabel compile -d casemgr/translations
"""
from __future__ import annotations

from flask import Flask, current_app, has_request_context, request
from flask_babel import get_locale
from flask_login import current_user

from casemgr.extensions import babel

LANGUAGE_COOKIE = "casemgr_language"
LANGUAGE_NAMES = {"en": "English", "es": "Español"}  # each in its own language


def languages() -> tuple[str, ...]:
    return tuple(current_app.config["LANGUAGES"])


def select_locale() -> str:
    if not has_request_context():  # the command line, or mail sent outside a request
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if current_user.is_authenticated and current_user.locale in languages():
        return current_user.locale
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if chosen in languages():
        return chosen
    return request.accept_languages.best_match(languages()) or current_app.config["BABEL_DEFAULT_LOCALE"]


def current_language() -> str:
    return str(get_locale() or "en")


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale)
    app.context_processor(
        lambda: {"current_language": current_language, "language_names": LANGUAGE_NAMES}
    )
