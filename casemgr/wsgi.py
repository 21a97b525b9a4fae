"""The WSGI entry point: `gunicorn casemgr.wsgi:app`."""
from casemgr import create_app

app = create_app()
