"""WSGI entry point: ``gunicorn wsgi:app``, ``flask --app wsgi …``."""
import gc

from pakn import create_app

app = create_app()
# Everything loaded so far (modules, mappers, templates, catalogs: ≈ 200,000 objects) lives
# as long as the process: keep it out of the garbage collector's full passes, which would
# otherwise walk all of it every few hundred requests (a latency spike, issue 11).
gc.freeze()
