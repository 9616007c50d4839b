"""Home page, language switch and the staff dashboard."""
from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, select

from workflows.pakn import WORKFLOW

from ..access import scope_cases
from ..auth.session import safe_next_path
from ..extensions import db
from ..models import Feedback, StageVisit
from . import bp


@bp.route("/")
def home():
    """The citizen portal's home: what to do here, and the latest published answers."""
    from ..operations.clock import clock_settings
    from ..portal.public import Filters, published_all

    return render_template("web/home.html", latest=published_all(Filters(), limit=5), clock=clock_settings())


@bp.route("/lang/<code>")
def set_language(code: str):
    from flask import current_app, session

    if code not in current_app.config["LANGUAGES"]:
        abort(404)
    session["lang"] = code
    return redirect(safe_next_path(request.args.get("next")) or url_for("web.home"))


@bp.route("/staff/")
@login_required
def dashboard():
    """Counts per state and the cases most urgently due, in the user's scope."""
    counts = dict(db.session.execute(
        scope_cases(select(Feedback.state, func.count()), current_user).group_by(Feedback.state)).all())
    due = db.session.execute(
        scope_cases(select(Feedback, StageVisit)
                    .join(StageVisit, (StageVisit.feedback_id == Feedback.id) & StageVisit.finished_at.is_(None)),
                    current_user)
        .order_by(StageVisit.due_at.asc().nulls_last(), Feedback.id).limit(50)).all()
    states = [s for s in WORKFLOW.states.values() if counts.get(s.key)]
    return render_template("web/dashboard.html", counts=counts, states=states, due=due)
