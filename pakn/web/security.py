"""Security headers on every response, and no caching of anything personal."""
from __future__ import annotations

from flask import Flask, Response, request
from flask_login import current_user

CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
       "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")


def _headers(response: Response) -> Response:
    h = response.headers
    h.setdefault("Content-Security-Policy", CSP)
    h.setdefault("X-Content-Type-Options", "nosniff")
    h.setdefault("X-Frame-Options", "DENY")
    h.setdefault("Referrer-Policy", "same-origin")
    h.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.is_secure:
        h.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    # Staff pages, the API and anything behind a tracking token must never be cached.
    if (request.path.startswith("/api/") or current_user.is_authenticated
            or "token" in request.args or request.path.startswith(("/staff", "/auth"))):
        h["Cache-Control"] = "no-store"
    return response


def escape_template_translations(app: Flask) -> None:
    """Make ``_()``/``gettext()`` in templates return escaped text.

    Jinja's i18n (newstyle, autoescaped) marks whatever ``_()`` returns as safe markup, on the
    assumption that its argument is a msgid written by us. Templates also call ``_(label)`` on
    labels that may be data (an agency's, a field's or a user's name among the choices of a
    select): stored XSS. No msgid or translation holds markup, so the translation is escaped
    before Jinja marks it safe; ``%(name)s`` parameters are escaped by Markup as before.
    """
    from flask_babel import get_translations
    from jinja2 import pass_eval_context
    from markupsafe import escape

    def escaped(translate):
        @pass_eval_context
        def call(eval_ctx, *args):
            text = translate(get_translations(), *args)
            return escape(text) if eval_ctx.autoescape else text  # plain-text e-mails stay plain
        return call

    app.jinja_env.install_gettext_callables(
        gettext=escaped(lambda t, s: t.ugettext(s)),
        ngettext=escaped(lambda t, s, p, n: t.ungettext(s, p, n)),
        pgettext=escaped(lambda t, c, s: t.upgettext(c, s)),
        npgettext=escaped(lambda t, c, s, p, n: t.unpgettext(c, s, p, n)),
        newstyle=True)


def init_app(app: Flask) -> None:
    app.after_request(_headers)
    escape_template_translations(app)
