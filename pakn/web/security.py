"""Security headers on every response, and no caching of anything personal.

* CSP: everything from this site only, no inline script or style (no ``unsafe-inline``: the
  templates carry no ``<script>``, ``<style>``, ``style=`` or ``on…=`` attribute), no
  plugins, no ``<base>``, never framed (ASVS 3.4.3, 3.4.6); forms post only here.
* HSTS for a year with subdomains, whenever the request came over HTTPS (behind a proxy:
  ``PAKN_PROXY_COUNT`` makes ProxyFix trust its ``X-Forwarded-Proto``) (ASVS 3.4.1).
* ``Cache-Control: no-store`` on everything except the public pages listed in
  :data:`CACHEABLE_ENDPOINTS` and static files, and always once a staff member is logged in
  (ASVS 14.3.2). A new route is therefore private until someone decides otherwise.
"""
from __future__ import annotations

from flask import Flask, Response, request
from flask.sessions import SecureCookieSessionInterface
from flask_login import current_user

CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
       "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
HSTS = "max-age=31536000; includeSubDomains"

#: Public pages that hold no personal data and no session-bound form: a browser or proxy may
#: keep them (for anonymous visitors only). Every other endpoint answers ``no-store``.
CACHEABLE_ENDPOINTS = frozenset({
    "static", "web.home", "web.set_language", "portal.guidance", "portal.answers", "portal.answer",
    "portal.feed", "portal.statistics", "portal.open_data", "portal.open_data_csv", "portal.open_data_json",
})


#: The headers every response gets unless its view set its own (lower-case name, name, value).
_DEFAULTS = tuple((name.lower(), name, value) for name, value in (
    ("Content-Security-Policy", CSP),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "same-origin"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")))


def _headers(response: Response) -> Response:
    h = response.headers
    present = {name.lower() for name, _ in h.items()}  # one pass, not one scan per header
    h.extend([(name, value) for lower, name, value in _DEFAULTS if lower not in present])
    if request.is_secure and "strict-transport-security" not in present:
        h["Strict-Transport-Security"] = HSTS
    if request.endpoint not in CACHEABLE_ENDPOINTS and "cache-control" not in present:
        h["Cache-Control"] = "no-store"  # for anyone: no need to load the user (a public form's POST)
    elif current_user.is_authenticated:
        h["Cache-Control"] = "no-store"  # whatever the view said: the page may name the user
    return response


def escape_template_translations(app: Flask) -> None:
    """Make ``_()``/``gettext()`` in templates return escaped text.

    Jinja's i18n (newstyle, autoescaped) marks whatever ``_()`` returns as safe markup, on the
    assumption that its argument is a msgid written by us. Templates also call ``_(label)`` on
    labels that may be data (an agency's, a field's or a user's name among the choices of a
    select): stored XSS. No msgid or translation holds markup, so the translation is escaped
    before Jinja marks it safe; ``%(name)s`` parameters are escaped by Markup as before.
    """
    from flask import g, has_app_context
    from flask_babel import get_locale, get_translations
    from jinja2 import pass_context
    from markupsafe import escape

    def translations():
        # Flask-Babel looks the catalog up anew on every call (30 µs; a staff page calls ``_()``
        # 70 times and more). Kept for the request while its locale is the same object: a
        # ``flask_babel.refresh()`` makes a new one.
        if not has_app_context():
            return get_translations()
        locale = get_locale()
        held = g.get("_pakn_translations")
        if held is None or held[0] is not locale:
            held = g._pakn_translations = (locale, get_translations())
        return held[1]

    def newstyle(translate, defaults=()):
        # Jinja's newstyle call (always ``% variables``; ``num`` and ``context`` default to the
        # positional arguments), the translation escaped before Markup formats it. Written as
        # one function instead of Jinja's wrapper calling ours through ``context.call``, and
        # bound to ``_`` as well as ``gettext`` (Jinja's ``_`` resolves ``gettext`` through one
        # more ``context.call``): a call took 10 µs, some 70 calls on every staff page.
        @pass_context
        def call(context, *args, **variables):
            for name, position in defaults:
                variables.setdefault(name, args[position])
            text = translate(translations(), *args)
            if context.eval_ctx.autoescape:
                return escape(text) % variables
            return text % variables  # plain-text e-mails stay plain
        return call

    env = app.jinja_env
    env.newstyle_gettext = True  # what install_gettext_callables(…, newstyle=True) sets
    gettext = newstyle(lambda t, s: t.ugettext(s))
    env.globals.update(
        _=gettext, gettext=gettext,
        ngettext=newstyle(lambda t, s, p, n: t.ungettext(s, p, n), (("num", 2),)),
        pgettext=newstyle(lambda t, c, s: t.upgettext(c, s), (("context", 0),)),
        npgettext=newstyle(lambda t, c, s, p, n: t.unpgettext(c, s, p, n), (("context", 0), ("num", 3))))


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, with its serializer built once per set of keys (Flask
    builds one to read the cookie and another to write it, on every request)."""

    _built: tuple | None = None

    def get_signing_serializer(self, app: Flask):
        keys = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        built = self._built
        if built is None or built[0] != keys:
            built = self._built = (keys, super().get_signing_serializer(app))
        return built[1]


def init_app(app: Flask) -> None:
    app.session_interface = SessionInterface()
    app.after_request(_headers)
    escape_template_translations(app)
