"""Administrative documents: layout text in DOCX and PDF, gap-free concurrent numbering, no stray file."""
from __future__ import annotations

import io
import threading
from datetime import date, datetime, timezone
from pathlib import Path

import docx
import pypdf
import pytest
from sqlalchemy import func, select, text

from pakn.documents import (
    DocumentSpec, Signer, answer_content, document_attachment_ids, documents_of, format_place_date,
    forwarding_content, issue_document, latest_document, plain_paragraphs, render_docx, render_pdf,
)
from pakn.extensions import db
from pakn.models import Agency, Answer, Attachment, AuditEvent, DocumentRegister, Feedback, GeneratedDocument
from pakn.operations import transaction
from pakn.storage import attachment_path
from tests.test_storage import clear_uploads


@pytest.fixture(autouse=True)
def _clean_uploads(request):
    yield
    if "app" in request.fixturenames:
        clear_uploads(request.getfixturevalue("app"))

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=timezone.utc)  # 10:00 on 23/11/2026 in Vĩnh Long
SIGNER = Signer("Trần Thị Bích", ("KT. Chánh Văn phòng", "Phó Chánh Văn phòng"))


def docx_text(data: bytes) -> str:
    document = docx.Document(io.BytesIO(data))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            for cell in row.cells:
                parts.extend(p.text for p in cell.paragraphs)
    return "\n".join(parts)


def pdf_text(data: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


def flat(text_: str) -> str:
    return " ".join(text_.split())


def sample_spec(**overrides) -> DocumentSpec:
    values = dict(
        kind="forwarding", parent_body="UBND tỉnh Vĩnh Long", issuer_name="Văn phòng UBND tỉnh",
        reference="05/VP-KSTT", place="Vĩnh Long", issued_on=date(2026, 2, 5),
        subject="chuyển xử lý phản ánh mã số PAKN-2026-000123", recipients=["Sở Xây dựng"],
        paragraphs=["Đề nghị Sở Xây dựng xem xét, xử lý theo thẩm quyền.",
                    "Thời hạn trả lời trước ngày 13/12/2026."],
        copies_to=["Như trên", "Lưu: VT, KSTT"], signer=SIGNER)
    values.update(overrides)
    return DocumentSpec(**values)


# -- pure rendering ----------------------------------------------------------------------------
@pytest.mark.parametrize("render,extract", [(render_docx, docx_text), (render_pdf, pdf_text)],
                         ids=["docx", "pdf"])
def test_rendered_document_has_every_part_of_the_decree_layout(render, extract):
    got = flat(extract(render(sample_spec())))
    for expected in [
        "UBND TỈNH VĨNH LONG", "VĂN PHÒNG UBND TỈNH",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc",
        "Số: 05/VP-KSTT", "V/v chuyển xử lý phản ánh mã số PAKN-2026-000123",
        "Vĩnh Long, ngày 05 tháng 02 năm 2026", "Kính gửi: Sở Xây dựng.",
        "Đề nghị Sở Xây dựng xem xét, xử lý theo thẩm quyền.", "Thời hạn trả lời trước ngày 13/12/2026./.",
        "Nơi nhận:", "- Như trên;", "- Lưu: VT, KSTT.",
        "KT. CHÁNH VĂN PHÒNG", "PHÓ CHÁNH VĂN PHÒNG", "Trần Thị Bích",
    ]:
        assert expected in got, expected


def test_docx_geometry_fonts_and_styles():
    document = docx.Document(io.BytesIO(render_docx(sample_spec())))
    section = document.sections[0]
    mm = lambda length: round(length.mm, 1)  # noqa: E731  (stored in twips)
    assert (mm(section.page_width), mm(section.page_height)) == (210, 297)
    assert tuple(map(mm, (section.top_margin, section.bottom_margin, section.left_margin,
                          section.right_margin))) == (20, 20, 30, 15)
    assert document.styles["Normal"].font.name == "Times New Roman"
    header = document.tables[0]
    assert len(header.columns) == 2
    place_date = header.rows[1].cells[1].paragraphs[0].runs[0]
    assert place_date.text == "Vĩnh Long, ngày 05 tháng 02 năm 2026"
    assert place_date.italic and place_date.font.name == "Times New Roman"
    issuer = header.rows[0].cells[0].paragraphs[1].runs[0]
    assert issuer.bold and issuer.text == "VĂN PHÒNG UBND TỈNH"
    motto = header.rows[0].cells[1].paragraphs[1].runs[0]
    assert motto.bold and motto.underline
    assert 13 <= document.styles["Normal"].font.size.pt <= 14
    assert document.core_properties.author == "Văn phòng UBND tỉnh"


def test_pdf_is_a4_with_embedded_unicode_font():
    reader = pypdf.PdfReader(io.BytesIO(render_pdf(sample_spec())))
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)
    fonts = {str(f["/BaseFont"]) for f in reader.pages[0]["/Resources"]["/Font"].values()}
    assert any("DejaVuSerifCondensed" in f for f in fonts)
    assert reader.metadata.title == "chuyển xử lý phản ánh mã số PAKN-2026-000123"


def test_vendored_font_has_every_vietnamese_letter():
    from fontTools.ttLib import TTFont

    import unicodedata

    letters = "aăâeêioôơuưyđ"
    tones = ["", "\u0300", "\u0301", "\u0303", "\u0309", "\u0323"]
    needed = {unicodedata.normalize("NFC", base + tone) for base in letters + letters.upper() for tone in tones
              if base.lower() != "đ" or not tone}
    folder = Path(__file__).resolve().parent.parent / "pakn" / "documents" / "fonts"
    for face in folder.glob("*.ttf"):
        cmap = TTFont(face).getBestCmap()
        missing = sorted(ch for ch in needed if ord(ch) not in cmap)
        assert not missing, (face.name, missing)
    assert (folder / "LICENSE-DejaVu.txt").is_file()


def test_multi_page_body_and_many_recipients():
    spec = sample_spec(recipients=["Sở Xây dựng", "Sở Tài chính", "UBND xã Long Hồ"],
                       paragraphs=[f"Đoạn {i}: nội dung có dấu tiếng Việt đầy đủ ở đây. " * 6 for i in range(40)])
    got = flat(pdf_text(render_pdf(spec)))
    assert "Kính gửi: - Sở Xây dựng; - Sở Tài chính; - UBND xã Long Hồ." in got
    assert "Đoạn 39" in got and "Trần Thị Bích" in got
    assert len(pypdf.PdfReader(io.BytesIO(render_pdf(spec))).pages) >= 3
    assert "- UBND xã Long Hồ." in docx_text(render_docx(spec))


@pytest.mark.parametrize("day,expected", [
    (date(2026, 11, 23), "Vĩnh Long, ngày 23 tháng 11 năm 2026"),
    (date(2026, 1, 9), "Vĩnh Long, ngày 09 tháng 01 năm 2026"),
    (date(2026, 3, 1), "Vĩnh Long, ngày 01 tháng 3 năm 2026"),
])
def test_place_and_date_follow_the_decree(day, expected):
    assert format_place_date("Vĩnh Long", day) == expected


def test_spec_round_trips_through_json():
    spec = sample_spec()
    assert DocumentSpec.from_dict(spec.as_dict()) == spec


def test_nfd_input_is_printed_precomposed():
    spec = sample_spec(recipients=["So\u031b\u0309 Xa\u0302y du\u031b\u0323ng"])
    assert "Kính gửi: Sở Xây dựng." in flat(pdf_text(render_pdf(spec)))


def test_plain_paragraphs_from_sanitized_html():
    assert plain_paragraphs("<p>Một &amp; hai</p><ul><li>ba</li><li>bốn</li></ul><p>năm<br>sáu</p>") == [
        "Một & hai", "- ba", "- bốn", "năm sáu"]


# -- issuing ---------------------------------------------------------------------------------
def _forward(app, make_case, state="forwarded"):
    code, _ = make_case(state)
    with app.app_context():
        return db.session.scalar(select(Feedback.id).where(Feedback.code == code))


def _issue_forwarding(case_id: int, now: datetime = NOW, issued_by=None) -> GeneratedDocument:
    case = db.session.get(Feedback, case_id)
    office = db.session.scalar(select(Agency).where(Agency.is_office.is_(True)))
    content = forwarding_content(case, case.agency, office)
    return issue_document(case, "forwarding", office, signer=SIGNER, now=now, issued_by=issued_by, **content)


def test_forwarding_document_is_numbered_stored_and_readable(app, world, make_case):
    case_id = _forward(app, make_case)
    with app.app_context():
        with transaction():
            clerk = world.user("clerk")
            doc = _issue_forwarding(case_id, issued_by=clerk)
        doc = db.session.get(GeneratedDocument, doc.id)
        case = db.session.get(Feedback, case_id)
        due = case.answer_due_at.astimezone(timezone.utc)
        assert (doc.kind, doc.number, doc.reference, doc.year) == ("forwarding", 1, "01/VP-KSTT", 2026)
        assert doc.issued_on == date(2026, 11, 23) and doc.agency_id == world.office
        docx_bytes = attachment_path(doc.docx_attachment).read_bytes()
        pdf_bytes = attachment_path(doc.pdf_attachment).read_bytes()
        assert doc.docx_attachment.content_type.endswith("wordprocessingml.document")
        assert doc.pdf_attachment.content_type == "application/pdf"
        assert doc.docx_attachment.original_name == f"Văn bản chuyển xử lý 01-VP-KSTT {case.code}.docx"
        assert doc.docx_attachment.feedback_id == case_id and doc.docx_attachment.uploaded_by_id == clerk.id
        from workflows.calendar import to_local_date
        due_text = to_local_date(due).strftime("%d/%m/%Y")
        for extracted in (flat(docx_text(docx_bytes)), flat(pdf_text(pdf_bytes))):
            assert case.code in extracted
            assert "Số: 01/VP-KSTT" in extracted
            assert "Vĩnh Long, ngày 23 tháng 11 năm 2026" in extracted
            assert f"trước ngày {due_text}" in extracted
            assert "Kính gửi: Sở Xây dựng." in extracted
            assert "Thời hạn cấp giấy phép xây dựng nhà ở riêng lẻ bị kéo dài" in extracted
            assert "Kết quả phân loại: phản ánh về quy định hành chính, lĩnh vực Xây dựng" in extracted
            assert "Thực hiện Nghị định số 20/2008/NĐ-CP" in extracted
            assert "Nguyễn Văn An" not in extracted  # the submitter is never named
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "document.issued"))
        assert event.feedback_id == case_id and event.data["reference"] == "01/VP-KSTT"
        assert event.actor_id == clerk.id
        assert latest_document(case, "forwarding").id == doc.id
        from werkzeug.exceptions import NotFound

        from pakn.documents import case_document_or_404
        assert case_document_or_404(case, str(doc.id)) == doc
        other = Feedback(id=case.id + 1000)
        for wanted_case, wanted in [(other, doc.id), (case, "x"), (case, doc.id + 1)]:
            with pytest.raises(NotFound):
                case_document_or_404(wanted_case, wanted)
        assert document_attachment_ids(case) == {doc.docx_attachment_id, doc.pdf_attachment_id}


def test_registers_are_per_agency_kind_and_year(app, world, make_case):
    case_id = _forward(app, make_case, "draft_pending_approval")
    with app.app_context():
        with transaction():
            first = _issue_forwarding(case_id)
            second = _issue_forwarding(case_id)
            next_year = _issue_forwarding(case_id, now=datetime(2026, 12, 31, 17, 30, tzinfo=timezone.utc))
        assert (first.reference, second.reference) == ("01/VP-KSTT", "02/VP-KSTT")
        assert (next_year.year, next_year.number) == (2027, 1)  # 00:30 on 1 January in Vĩnh Long
        assert "ngày 01 tháng 01 năm 2027" in flat(pdf_text(attachment_path(next_year.pdf_attachment).read_bytes()))
        with transaction():
            case = db.session.get(Feedback, case_id)
            answer = db.session.scalar(select(Answer).where(Answer.feedback_id == case_id))
            office = db.session.get(Agency, world.office)
            content = answer_content(case, answer, case.agency, office, forwarding=first)
            reply = issue_document(case, "answer", case.agency, signer=Signer("Lê Văn Cường", ("Giám đốc",)),
                                   now=NOW, answer=answer, **content)
        assert (reply.reference, reply.answer_id) == ("01/SXD", answer.id)
        assert reply.docx_attachment.answer_id == answer.id
        got = flat(pdf_text(attachment_path(reply.pdf_attachment).read_bytes()))
        assert "Văn bản số 01/VP-KSTT ngày 23/11/2026" in got and "Kính gửi: Văn phòng UBND tỉnh." in got
        assert "Kết quả xem xét: Quy định hiện hành phù hợp với Luật Xây dựng" in got
        assert "Hướng xử lý: Giữ nguyên quy định, có giải thích." in got
        assert "GIÁM ĐỐC" in got and case.code in got
        # Oldest first: the 2027 document was issued last.
        assert [d.reference for d in documents_of(case)] == ["01/VP-KSTT", "02/VP-KSTT", "01/SXD", "01/VP-KSTT"]


def test_rollback_gives_the_number_back_and_leaves_no_file(app, world, make_case):
    case_id = _forward(app, make_case)
    root = Path(app.config["UPLOAD_FOLDER"])
    before = {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()
    with app.app_context():
        with pytest.raises(RuntimeError):
            with transaction():
                doc = _issue_forwarding(case_id)
                assert doc.number == 1 and attachment_path(doc.pdf_attachment).is_file()
                raise RuntimeError("the forwarding transition failed afterwards")
        assert db.session.scalar(select(func.count()).select_from(GeneratedDocument)) == 0
        assert db.session.scalar(select(func.count()).select_from(Attachment)) == 0
        assert {p for p in root.rglob("*") if p.is_file()} == before
        with transaction():
            assert _issue_forwarding(case_id).reference == "01/VP-KSTT"  # no gap


@pytest.mark.parametrize("bad", [
    dict(kind="memo"), dict(now=datetime(2026, 11, 23, 10, 0)), dict(paragraphs=[]), dict(recipients=[]),
])
def test_bad_input_takes_no_number(app, world, make_case, bad):
    case_id = _forward(app, make_case)
    with app.app_context():
        case = db.session.get(Feedback, case_id)
        office = db.session.get(Agency, world.office)
        args = dict(kind="forwarding", recipients=["Sở Xây dựng"], subject="thử", paragraphs=["Nội dung."],
                    signer=SIGNER, now=NOW, **{})
        args.update(bad)
        with pytest.raises(ValueError):
            with transaction():
                issue_document(case, issuer_agency=office, **args)
        assert db.session.scalar(select(func.count()).select_from(DocumentRegister)) == 0


@pytest.mark.parametrize("existing_register", [False, True], ids=["first-number", "later-number"])
def test_concurrent_issuers_get_consecutive_numbers(app, world, make_case, existing_register):
    if app.config["BACKEND"] != "postgresql":
        pytest.skip("SQLite has one writer at a time; the race is between PostgreSQL transactions")
    case_id = _forward(app, make_case)
    if existing_register:
        with app.app_context(), transaction():
            _issue_forwarding(case_id)
    first_holds = threading.Event()
    release = threading.Event()
    results: dict[str, object] = {}

    def issuer(name: str, hold: bool) -> None:
        try:
            with app.app_context():
                with transaction():
                    doc = _issue_forwarding(case_id)
                    results[name] = doc.number
                    if hold:
                        first_holds.set()
                        assert release.wait(60)
        except BaseException as exc:  # reported by the main thread
            results[name] = exc
            first_holds.set()

    first = threading.Thread(target=issuer, args=("first", True))
    first.start()
    assert first_holds.wait(60)
    second = threading.Thread(target=issuer, args=("second", False))
    second.start()
    # Wait until the second transaction is really blocked on the first one's lock.
    with app.app_context():
        for _ in range(600):
            waiting = db.session.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock'")).scalar()
            db.session.rollback()
            if waiting:
                break
            threading.Event().wait(0.05)
        assert waiting, "the second issuer never waited for the first"
    release.set()
    first.join(60)
    second.join(60)
    base = 1 if existing_register else 0
    assert (results["first"], results["second"]) == (base + 1, base + 2), results
    with app.app_context():
        numbers = sorted(db.session.scalars(select(GeneratedDocument.number)))
        assert numbers == list(range(1, base + 3))


def test_control_characters_and_missing_glyphs_do_not_break_rendering():
    spec = sample_spec(paragraphs=["Nội dung\x00 có\x0b ký tự điều khiển 😀 và 中文."])
    assert "Nội dung có ký tự điều khiển" in flat(docx_text(render_docx(spec)))
    assert "Nội dung có ký tự điều khiển" in flat(pdf_text(render_pdf(spec)))
