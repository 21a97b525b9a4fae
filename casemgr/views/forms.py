"""Small pieces shared by the forms."""
from __future__ import annotations

from collections.abc import Callable

from flask import flash
from wtforms import SelectMultipleField, widgets

from casemgr.extensions import db


class CheckboxListField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


def saved(form, write: Callable[[], object], refusal: type[Exception] | tuple[type[Exception], ...]) -> bool:
    """Run a write use-case and commit it; when the use-case refuses, roll back and put
    its message on the form. True when the write was committed."""
    try:
        write()
    except refusal as error:
        db.session.rollback()
        form.form_errors.append(str(error))
        return False
    db.session.commit()
    return True


def flashed(write: Callable[[], object], refusal: type[Exception] | tuple[type[Exception], ...], done: str) -> bool:
    """Run a write use-case and commit it, saying `done`; when the use-case refuses, roll
    back and say its message instead (for actions whose page is elsewhere: a redirect
    follows). True when the write was committed."""
    try:
        write()
    except refusal as error:
        db.session.rollback()
        flash(str(error), "error")
        return False
    db.session.commit()
    flash(done, "success")
    return True


class EmailAddress:
    """A syntactically valid email address (no deliverability check). `.test` addresses
    are accepted: the tests and the staging districts use them."""

    def __init__(self, message=None):
        self.message = message

    def __call__(self, form, field) -> None:
        from email_validator import EmailNotValidError, validate_email
        from wtforms.validators import ValidationError

        try:
            validate_email(field.data or "", check_deliverability=False, test_environment=True)
        except EmailNotValidError:
            raise ValidationError(self.message or "Enter an email address like name@example.org.") from None
