"""Alembic environment for casemgr: runs inside the Flask app (Flask-Migrate)."""
import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

config = context.config
# `casemgr seed` and `demo` migrate quietly: without the logging set-up, only warnings are shown
if config.config_file_name is not None and not current_app.config.get("QUIET_MIGRATIONS"):
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

target_db = current_app.extensions["migrate"].db
target_metadata = target_db.metadata


def run_migrations_offline() -> None:
    from casemgr import db_roles

    url = db_roles.owner_url().render_as_string(hide_password=False)
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    def skip_empty_autogenerate(context, revision, directives):
        if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
            directives[:] = []
            logger.info("No changes in schema detected.")

    conf_args = dict(current_app.extensions["migrate"].configure_args)
    conf_args.setdefault("process_revision_directives", skip_empty_autogenerate)
    conf_args.setdefault("compare_type", True)

    # as the owner (MIGRATE_DATABASE_URL, when set); the application role's grants are
    # given again in the same transaction, so new tables get them too
    from casemgr import db_roles

    app_role = db_roles.app_role_to_grant()
    with db_roles.as_owner(), target_db.engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, **conf_args)
        with context.begin_transaction():
            context.run_migrations()
            if app_role:
                db_roles.grant_app_role(connection, app_role)


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
