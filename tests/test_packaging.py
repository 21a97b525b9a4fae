"""An installed wheel carries the top-level templates, static files, migrations and
seed, and the compiled translations, and finds them, as an editable install does."""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHECK = textwrap.dedent(
    """
    from pathlib import Path
    import casemgr
    from casemgr import resource_dir
    assert casemgr.__file__.startswith(sys.argv[1]), casemgr.__file__
    for name in ("templates", "static", "migrations"):
        assert str(resource_dir(name)).startswith(sys.argv[1]), resource_dir(name)
    assert (resource_dir("templates") / "auth" / "login.html").exists()
    assert (resource_dir("static") / "vendor" / "htmx-2.0.11.min.js").exists()
    assert (resource_dir("migrations") / "versions" / "0001_data_model.py").exists()
    assert (Path(casemgr.__file__).parent / "translations" / "es" / "LC_MESSAGES" / "messages.mo").exists()
    from casemgr import create_app
    from flask_babel import force_locale, gettext
    app = create_app({"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://unused/none", "SECRET_KEY": "x" * 40,
                      "CHECK_DATABASE_ON_START": False})
    with app.test_request_context(), force_locale("es"):
        assert gettext("Sign in") == "Iniciar sesión", gettext("Sign in")
    import casemgr.seed.generator, casemgr.importers
    from pathlib import Path
    assert (Path(casemgr.seed.generator.__file__).parent / "examples" / "oneroster" / "users.csv").exists()
    print("ok")
    """
)


def test_the_wheel_finds_its_templates_static_files_migrations_and_seed(tmp_path):
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q", "-w", str(tmp_path / "dist")],
        capture_output=True, text=True, timeout=300,
    )
    assert built.returncode == 0, built.stderr
    [wheel] = (tmp_path / "dist").glob("casemgr-*.whl")
    target = tmp_path / "site"
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
        capture_output=True, text=True, timeout=300,
    )
    assert installed.returncode == 0, installed.stderr
    checked = subprocess.run(
        [sys.executable, "-c", "import sys; sys.path.insert(0, sys.argv[1]);" + CHECK, str(target)],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.strip() == "ok"
