"""The WSGI entry of the load test (tests/perf/load.py): casemgr as production serves
it (casemgr.wsgi), with the bare comparison page (tests/perf/bare.py) mounted under
/bare, so both are measured through the same gunicorn in the same run.

    gunicorn -c casemgr/gunicorn_conf.py tests.perf.serve:app
"""
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from casemgr.wsgi import app as casemgr_app
from tests.perf.bare import app as bare_app

app = DispatcherMiddleware(casemgr_app, {"/bare": bare_app})
