"""casemgr: two-way case management for school–community partnerships."""
from __future__ import annotations

import logging
from pathlib import Path

import sqlalchemy as sa
from flask import Flask

from casemgr.config import Config, ConfigError, data_dir, development_secret

__all__ = ["create_app", "ConfigError"]

PACKAGE_DIR = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    """A top-level folder (templates, static, migrations, seed): inside the package
    in an installed wheel, beside it in a source checkout or editable install."""
    for candidate in (PACKAGE_DIR / name, PACKAGE_DIR.parent / name):
        if candidate.is_dir():
            return candidate
    raise RuntimeError(f"casemgr is installed without its {name}/ folder")


def create_app(config: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        template_folder=str(resource_dir("templates")),
        static_folder=str(resource_dir("static")),
    )
    app.config.from_object(Config)
    app.config.update(Config.from_environ())
    app.config.update(config or {})
    init_database_url(app)
    init_secret_key(app)
    init_extensions(app)
    init_input_bounds(app)
    register_blueprints(app)
    init_disclosure_guard(app)
    init_throttling(app)
    register_error_pages(app)
    register_security_headers(app)
    init_operations(app)
    trust_proxies(app)
    return app


def init_operations(app: Flask) -> None:
    from casemgr import operations

    operations.init_app(app)


def trust_proxies(app: Flask) -> None:
    """Behind CASEMGR_PROXIES reverse proxies, the client's address and scheme are the
    ones they forward; with none declared, forwarded headers are ignored."""
    if app.config.get("PROXIES"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        count = app.config["PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count)


def init_database_url(app: Flask) -> None:
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        from casemgr import embedded_db

        logging.getLogger("pgserver").setLevel(logging.WARNING)
        # the app connects as the app role; migrations and the seed as the owner
        app_url, owner_url = embedded_db.start_with_roles(data_dir() / "embedded")
        app.config["SQLALCHEMY_DATABASE_URI"] = app_url
        app.config["MIGRATE_DATABASE_URI"] = owner_url


def init_secret_key(app: Flask) -> None:
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = development_secret(data_dir())


def init_extensions(app: Flask) -> None:
    from casemgr import i18n, identity, models  # noqa: F401  (models register their tables)
    from casemgr.extensions import csrf, db, htmx, login_manager, migrate, principal

    init_reports_database(app)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(resource_dir("migrations")))
    csrf.init_app(app)
    htmx.init_app(app)
    login_manager.init_app(app)
    principal.init_app(app)
    identity.init_app(app)
    i18n.init_app(app)
    if app.config.get("CHECK_DATABASE_ON_START", True):
        check_database(app)


def init_reports_database(app: Flask) -> None:
    """With REPORTS_DATABASE_URI (a read replica), the report pages read from it through
    the bind "reports", every transaction read-only; without it they read DATABASE_URL."""
    url = app.config.get("REPORTS_DATABASE_URI")
    if not url:
        return
    options = app.config["SQLALCHEMY_ENGINE_OPTIONS"]
    connect_args = {**options.get("connect_args", {}), "options": "-c default_transaction_read_only=on"}
    binds = dict(app.config.get("SQLALCHEMY_BINDS") or {})
    binds["reports"] = {**options, "url": url, "connect_args": connect_args}
    app.config["SQLALCHEMY_BINDS"] = binds


def check_database(app: Flask) -> None:
    """Fail at start, in one line, when the database cannot be reached."""
    from casemgr.extensions import db

    with app.app_context():
        try:
            with db.engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
        except sa.exc.DBAPIError as exc:
            url = db.engine.url
            where = f"{url.host or 'local socket'}/{url.database}"
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise ConfigError(f"cannot connect to the database at {where}: {reason}") from None


def register_blueprints(app: Flask) -> None:
    from casemgr.views import (
        account,
        accounts,
        admin,
        amendments,
        auth,
        caseload,
        caseload_assignments,
        casework,
        claim,
        clearinghouse,
        consent_asks,
        consents,
        contacts,
        family,
        family_accounts,
        family_consents,
        formatting,
        home,
        imports,
        inbox,
        language,
        navigation,
        notes,
        notices,
        organizations,
        outcomes,
        partner,
        referrals,
        release_forms,
        annual_reports,
        reports,
        research,
        rights,
        roster,
        students,
        two_factor,
        uploads,
        users,
    )

    app.register_blueprint(account.bp)
    app.register_blueprint(accounts.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(amendments.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(caseload.bp)
    app.register_blueprint(caseload_assignments.bp)
    app.register_blueprint(casework.bp)
    app.register_blueprint(claim.bp)
    app.register_blueprint(consent_asks.bp)
    app.register_blueprint(consents.bp)
    app.register_blueprint(contacts.bp)
    app.register_blueprint(family.bp)
    app.register_blueprint(family_accounts.bp)
    app.register_blueprint(family_consents.bp)
    app.register_blueprint(home.bp)
    app.register_blueprint(imports.bp)
    app.register_blueprint(clearinghouse.bp)
    app.register_blueprint(notes.bp)
    app.register_blueprint(notices.bp)
    app.register_blueprint(organizations.bp)
    app.register_blueprint(outcomes.bp)
    app.register_blueprint(inbox.bp)
    app.register_blueprint(language.bp)
    app.register_blueprint(partner.bp)
    app.register_blueprint(referrals.bp)
    app.register_blueprint(release_forms.bp)
    app.register_blueprint(reports.bp)
    app.register_blueprint(research.bp)
    app.register_blueprint(research.admin_bp)
    app.register_blueprint(annual_reports.bp)
    app.register_blueprint(rights.bp)
    app.register_blueprint(roster.bp)
    app.register_blueprint(students.bp)
    app.register_blueprint(users.bp)
    two_factor.init_app(app)
    uploads.init_app(app)
    navigation.init_app(app)
    formatting.init_app(app)


def init_input_bounds(app: Flask) -> None:
    from casemgr.views import input_bounds

    input_bounds.init_app(app)


def init_disclosure_guard(app: Flask) -> None:
    from casemgr.views import disclosure_guard

    disclosure_guard.init_app(app)


def init_throttling(app: Flask) -> None:
    from casemgr import throttle

    throttle.init_app(app)


def register_error_pages(app: Flask) -> None:
    from casemgr.views import errors

    errors.init_app(app)


def register_security_headers(app: Flask) -> None:
    from casemgr.views import security

    security.init_app(app)
