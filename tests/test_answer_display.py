"""An answer drafted in the agency's rich-text editor reads as formatted text everywhere it is
shown, and only plain text is ever proposed for publication."""
import html as html_lib

from sqlalchemy import select

from pakn.extensions import db
from pakn.models import Answer, Feedback
from pakn.operations import transaction

RICH_BODY = "<p>Ủy ban đã <strong>sửa đổi</strong> quy định.</p><p>Áp dụng từ ngày 01/01/2027.</p>"


def _set_rich_body(app, code: str) -> None:
    """What the agency portal stores for a formatted answer (nh3-cleaned HTML)."""
    with app.app_context(), transaction():
        case = db.session.scalar(select(Feedback).where(Feedback.code == code))
        answer = db.session.scalar(select(Answer).where(Answer.feedback_id == case.id)
                                   .order_by(Answer.revision.desc()).limit(1))
        answer.body = RICH_BODY


def test_the_office_sees_the_formatting_and_proposes_plain_text_for_publication(app, client, login, make_case):
    code, _ = make_case("notified")
    _set_rich_body(app, code)
    login("clerk")
    html = client.get(f"/office/cases/{code}").get_data(as_text=True)
    assert "Ủy ban đã <strong>sửa đổi</strong> quy định." in html
    proposal = html.split('name="public_answer"', 1)[1].split("</textarea>", 1)[0]
    assert "sửa đổi" in html_lib.unescape(proposal)
    assert "<strong>" not in html_lib.unescape(proposal) and "<p>" not in html_lib.unescape(proposal)


def test_the_submitter_sees_the_answer_formatted_and_sanitized(app, client, make_case):
    code, token = make_case("notified")
    _set_rich_body(app, code)
    with app.app_context(), transaction():
        answer = db.session.scalar(select(Answer).join(Feedback).where(Feedback.code == code))
        answer.body += '<script>alert(1)</script><a href="javascript:alert(2)">x</a>'
    assert client.get(f"/tra-cuu/{code}?token={token}").status_code == 303
    html = client.get(f"/tra-cuu/{code}").get_data(as_text=True)
    assert "Ủy ban đã <strong>sửa đổi</strong> quy định." in html
    assert "&lt;strong&gt;" not in html
    assert "<script>alert(1)" not in html and "javascript:alert" not in html
