"""The citizen portal in a real browser (headless Chromium driven by selenium), on a phone-sized
viewport: submit with an attachment, see the receipt, track the case, find a published answer
by searching without diacritics, and submit with the keyboard alone.

Select these with ``-m browser``; they run in the normal suite. With ``PAKN_SCREENSHOTS=<dir>``
they also save the screenshots referenced from the README.
"""
from __future__ import annotations

import os
import re
import shutil
import threading
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import select
from werkzeug.serving import make_server

from pakn.extensions import db
from pakn.models import Attachment, Feedback
from pakn.portal.limits import limiter_of

from .portal_support import _empty_upload_folder, publish  # noqa: F401  (autouse fixture)

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
SHOTS = os.environ.get("PAKN_SCREENSHOTS")
PHONE = (390, 844)


@pytest.fixture(scope="module")
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                "--lang=vi", f"--window-size={PHONE[0]},{PHONE[1]}"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.implicitly_wait(5)
    yield driver
    driver.quit()


@pytest.fixture
def live_server(app, browser):
    """The test app served over HTTP by werkzeug in a thread, on a free port."""
    with app.app_context():
        limiter_of(app).reset()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    browser.delete_all_cookies()
    phone(browser)
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


def click_and_load(driver, element) -> None:
    """Click something that loads a new page, and wait until the old page is gone (a click
    returns as soon as the navigation starts; reading the page then may see the old one)."""
    old_page = driver.find_element(By.TAG_NAME, "html")
    element.click()
    WebDriverWait(driver, 15).until(_gone(old_page))


def _gone(element):
    """Selenium's ``staleness_of``, also when Chromium, asked in the middle of the navigation,
    answers that the node "does not belong to the document" instead of calling it stale."""
    def check(driver) -> bool:
        try:
            element.is_enabled()
        except StaleElementReferenceException:
            return True
        except WebDriverException as err:
            if "does not belong to the document" in str(err):
                return True
            raise
        return False
    return check


def phone(driver, height: int = PHONE[1]) -> None:
    """Emulate a phone's viewport exactly (width, height, touch, the viewport meta tag)."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": PHONE[0], "height": height, "deviceScaleFactor": 1, "mobile": True})


def shot(driver, name: str) -> None:
    """A full-length phone screenshot, when asked for (PAKN_SCREENSHOTS)."""
    if not SHOTS:
        return
    Path(SHOTS).mkdir(parents=True, exist_ok=True)
    phone(driver, max(PHONE[1], driver.execute_script("return document.documentElement.scrollHeight")))
    driver.save_screenshot(str(Path(SHOTS) / f"{name}.png"))
    phone(driver)


@pytest.fixture
def published_answer(app, world, make_case):
    code, _ = make_case("notified")
    publish(app, code, "Thời hạn cấp giấy phép xây dựng nhà ở riêng lẻ",
            "Phản ánh việc cấp giấy phép xây dựng nhà ở riêng lẻ chậm so với quy định.",
            "Sở Xây dựng trả lời: thời hạn cấp giấy phép xây dựng nhà ở riêng lẻ là 15 ngày kể từ ngày "
            "nhận đủ hồ sơ hợp lệ. Sở đã chấn chỉnh bộ phận một cửa để bảo đảm đúng hạn.",
            lambda: world.user("clerk"))
    return code


@pytest.fixture
def photo(tmp_path) -> Path:
    from PIL import Image

    path = tmp_path / "anh-hien-truong.jpg"
    Image.new("RGB", (64, 48), (200, 120, 40)).save(path, "JPEG")
    return path


def fill(driver, values: dict) -> None:
    for name, value in values.items():
        element = driver.find_element(By.ID, name)
        element.clear()
        element.send_keys(value)


def test_submit_with_attachment_receipt_track_and_find_an_answer(app, browser, live_server, published_answer, photo):
    b = browser
    b.get(live_server + "/gop-y")
    assert b.find_element(By.TAG_NAME, "h1").text == "Gửi phản ánh, kiến nghị"
    # Width fits the phone: no horizontal scrolling.
    assert b.execute_script("return document.documentElement.scrollWidth") <= PHONE[0]
    b.find_element(By.ID, "subject-0").click()
    fill(b, {"title": "Chậm cấp giấy phép xây dựng nhà ở",
             "content": "Tôi nộp hồ sơ xin giấy phép xây dựng nhà ở riêng lẻ đã 30 ngày chưa có kết quả."})
    click_and_load(b, b.find_element(By.CSS_SELECTOR, "button[value=similar]"))
    similar = b.find_element(By.ID, "similar")
    assert "Thời hạn cấp giấy phép xây dựng nhà ở riêng lẻ" in similar.text
    assert b.find_element(By.ID, "title").get_attribute("value") == "Chậm cấp giấy phép xây dựng nhà ở"
    shot(b, "1-form-similar")
    fill(b, {"submitter_name": "Phạm Thị Hoa", "submitter_address": "Số 3 đường Lý Thường Kiệt, phường 1",
             "submitter_phone": "0903 123 456", "submitter_email": "hoa.pham@example.com"})
    b.find_element(By.ID, "attachments").send_keys(str(photo))
    b.find_element(By.ID, "declaration").click()
    click_and_load(b, b.find_element(By.CSS_SELECTOR, "button[value=submit]"))

    assert "Đã gửi thành công" in b.find_element(By.TAG_NAME, "h1").text
    code = b.find_element(By.CSS_SELECTOR, ".code-big .code").text
    assert re.fullmatch(r"PAKN-\d{4}-\d{6}", code)
    assert "Hạn trả lời" in b.page_source
    tracking_link = b.find_element(By.CSS_SELECTOR, ".link-box a").get_attribute("href")
    assert "token=" in tracking_link
    shot(b, "2-receipt")
    with app.app_context():
        case = db.session.scalar(select(Feedback).where(Feedback.code == code))
        files = db.session.scalars(select(Attachment).where(Attachment.feedback_id == case.id)).all()
        assert [f.original_name for f in files] == ["anh-hien-truong.jpg"]

    # Tracking from another browser session: by code and e-mail.
    b.delete_all_cookies()
    b.get(live_server + "/tra-cuu")
    fill(b, {"code": code, "contact": "hoa.pham@example.com"})
    click_and_load(b, b.find_element(By.CSS_SELECTOR, "form button[type=submit]"))
    assert code in b.find_element(By.TAG_NAME, "h1").text
    assert "Đã tiếp nhận" in b.find_element(By.CSS_SELECTOR, ".badge").text
    assert "Đã tiếp nhận phản ánh, kiến nghị" in b.find_element(By.CSS_SELECTOR, "ol.timeline").text
    shot(b, "3-tracking")
    # ...and by the token link, in a fresh session.
    b.delete_all_cookies()
    b.get(tracking_link)
    assert b.current_url.endswith(f"/tra-cuu/{code}")
    assert code in b.find_element(By.TAG_NAME, "h1").text

    # A published answer, searched for without diacritics.
    b.get(live_server + "/tra-loi")
    fill(b, {"q": "giay phep xay dung"})
    click_and_load(b, b.find_element(By.CSS_SELECTOR, "form.filters button[type=submit]"))
    assert "1 kết quả" in b.find_element(By.CSS_SELECTOR, "p.count").text
    shot(b, "4-answers")
    click_and_load(b, b.find_element(By.LINK_TEXT, "Thời hạn cấp giấy phép xây dựng nhà ở riêng lẻ"))
    assert b.find_element(By.TAG_NAME, "h1").text == "Thời hạn cấp giấy phép xây dựng nhà ở riêng lẻ"
    assert "15 ngày" in b.find_element(By.CSS_SELECTOR, "article").text
    shot(b, "5-answer")


def test_keyboard_only_submission(app, browser, live_server, world):
    """TAB through the form in order, type into each field, an arrow key in a radio group,
    SPACE for the declaration, ENTER to send."""
    b = browser
    b.get(live_server + "/gop-y")
    values = {"title": "Thủ tục đăng ký hộ kinh doanh rườm rà",
              "content": "Bộ phận một cửa yêu cầu nộp bản sao chứng thực dù đã có dữ liệu dân cư.",
              "submitter_name": "Võ Minh Tâm", "submitter_address": "Ấp 2, xã Long Hồ, tỉnh Vĩnh Long",
              "submitter_email": "tam.vo@example.com"}
    typed, order = set(), []

    def press(*keys):  # real key events to whatever has focus
        ActionChains(b).send_keys(*keys).perform()

    press(Keys.TAB)
    assert b.switch_to.active_element.get_attribute("class") == "skip"  # the skip link comes first
    for _ in range(120):
        active = b.switch_to.active_element
        ident = active.get_attribute("id") or active.get_attribute("value") or active.tag_name
        order.append(ident)
        if ident in values and ident not in typed:
            press(values[ident])
            typed.add(ident)
        elif ident.startswith("subject-") and "subject" not in typed:
            # A radio group is one tab stop, on its checked option ("Chưa rõ", the last);
            # an arrow key moves to and selects the next option, wrapping to the first.
            assert ident == "subject-2"
            press(Keys.ARROW_DOWN)
            assert b.switch_to.active_element.get_attribute("id") == "subject-0"
            typed.add("subject")
        elif ident == "declaration" and "declaration" not in typed:
            press(Keys.SPACE)
            typed.add("declaration")
        elif active.tag_name == "button" and active.get_attribute("value") == "submit":
            assert typed == set(values) | {"declaration", "subject"}, order
            press(Keys.ENTER)
            break
        press(Keys.TAB)
    else:
        pytest.fail(f"never reached the submit button: {order}")
    assert "website" not in order  # the honeypot is never in the tab order
    assert order.index("title") < order.index("content") < order.index("submitter_name") < order.index("declaration")
    # ENTER returns as the navigation starts: wait for the receipt rather than read the old page.
    WebDriverWait(b, 15, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda d: "Đã gửi thành công" in d.find_element(By.TAG_NAME, "h1").text)
    with app.app_context():
        case = db.session.scalar(select(Feedback))
        assert case.title == values["title"] and case.subject == "quy_dinh"


def test_errors_are_announced_at_the_top_and_link_to_their_fields(browser, live_server, world):
    b = browser
    b.get(live_server + "/gop-y")
    fill(b, {"title": "Tiêu đề đủ dài", "content": "   ", "submitter_name": "Lê Na",
             "submitter_address": "Số 1 đường A, phường B", "submitter_email": "sai-dia-chi"})
    click_and_load(b, b.find_element(By.CSS_SELECTOR, "button[value=submit]"))
    summary = b.find_element(By.CSS_SELECTOR, ".error-summary")
    assert b.switch_to.active_element == summary  # focus moves to the summary (autofocus, no script)
    assert "Không được để trống." in summary.text and "Cần đánh dấu ô cam đoan để gửi." in summary.text
    shot(b, "6-form-errors")
    summary.find_element(By.CSS_SELECTOR, "a[href='#submitter_email']").click()
    assert b.switch_to.active_element.get_attribute("id") == "submitter_email"
    assert b.find_element(By.ID, "submitter_name").get_attribute("value") == "Lê Na"
