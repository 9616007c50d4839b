"""WSGI entry point: ``gunicorn wsgi:app``, ``flask --app wsgi …``."""
from pakn import create_app

app = create_app()
