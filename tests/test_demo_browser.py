"""README command 1 in the back office's browser: the demo's bookings
and passes as the window clerk seller01 sees them in sao, their QR codes
big enough to scan on screen and on the printed pass (screenshots in
test-artifacts/).  The demo's data itself: test_demo.py."""
import io
import re

import pytest
import zxingcpp
from PIL import Image
from zl_testing import load_demo, open_menu, rpc, sao_login, shot

pytestmark = pytest.mark.browser


@pytest.fixture(scope='module')
def demo(sqlite_database):
    "The database after demo.sh's data step"
    config, name = sqlite_database
    load_demo(config, name)


def test_clerk_sees_the_pass_qr_on_the_booking_form(
        demo, sqlite_database, server, page):
    """seller01 opens 门票预约 → 预约订单, a booking, its 电子票 page: the
    QR codes are shown (screenshots in test-artifacts/demo-*.png)"""
    config, name = sqlite_database
    url = server(config, name)
    try:
        sao_login(page, url, name, 'seller01', 'Seller-01-2026', 'demo')
        open_menu(page, '门票预约', '预约订单')
        tab = page.locator('#tabcontent .tab-pane.active')
        row = tab.locator('td', has_text='B0').first
        row.wait_for()
        shot(page, 'demo-3-bookings')
        row.dblclick()
        tab.locator('a[role=tab]', has_text='电子票').click()
        image = tab.locator('.column-image img, td img').first
        image.wait_for()
        page.wait_for_function(
            '(img) => img.complete && img.naturalWidth >= 100',
            arg=image.element_handle())
        shot(page, 'demo-4-booking-qr')
    except Exception:
        shot(page, 'demo-failure')
        raise


def scan(png):
    "What a QR scanner reads in a screenshot"
    return [r.text for r in zxingcpp.read_barcodes(
            Image.open(io.BytesIO(png)),
            formats=zxingcpp.BarcodeFormat.QRCode)]


# A pass code is a 45-module QR code with a 2-module border: 4 screen
# pixels a module is what a gate scanner reads off a screen.
QR_PIXELS = 4 * 49


def wait_loaded(page, image):
    image.wait_for()
    page.wait_for_function(
        '(img) => img.complete && img.naturalWidth >= 100',
        arg=image.element_handle())
    box = image.bounding_box()
    assert min(box['width'], box['height']) >= QR_PIXELS, box


def active_tab(page, title):
    "The active tab once it is the one of title (a menu path)"
    return page.locator('#tabcontent .tab-pane.active',
        has=page.locator(f'.title[title="{title}"]'))


def test_pass_qr_scans_on_screen_and_paper(
        demo, sqlite_database, server, page, tmp_path):
    """seller01's screens show each pass's QR code big enough to scan, on
    the booking's 电子票 page and on the pass form; 打印 → 电子票 on the
    booking gives one A6 page per pass with its code. A scanner reads
    back the exact codes (screenshots in test-artifacts/pass-*.png)."""
    config, name = sqlite_database
    url = server(config, name)
    user_id, token, *_ = rpc(url, 'common.db.login',
        ['seller01', {'password': 'Seller-01-2026'}, 'en'], database=name)

    def passes_of(number):
        return rpc(url, 'model.zl.pass.search_read', [
                [('booking.number', '=', number)], 0, None, [('id', 'ASC')],
                ['code', 'visitor.rec_name'], {}],
            database=name, session=f'seller01:{user_id}:{token}')

    try:
        sao_login(page, url, name, 'seller01', 'Seller-01-2026', 'pass')
        open_menu(page, '门票预约', '预约订单')
        tab = active_tab(page, "门票预约 / 预约订单")
        tab.locator('td', has_text='B0').first.dblclick()
        number = tab.locator('input[name="number"]')
        page.wait_for_function('(e) => e.value', arg=number.element_handle())
        passes = passes_of(number.input_value())
        assert len(passes) > 1
        code = {p['visitor.']['rec_name']: p['code'] for p in passes}

        # The booking form's 电子票 page: each row's image is its pass.
        tab.locator('a[role=tab]', has_text='电子票').click()
        image = tab.locator('td img.column-image').first
        wait_loaded(page, image)
        shot(page, 'pass-1-booking-form')
        row = image.locator('xpath=ancestor::tr[1]').inner_text()
        visitor, = [v for v in code if v in row]
        assert scan(image.screenshot()) == [code[visitor]]

        # 打印 → 电子票: the booking's passes, one A6 page each.
        with page.expect_download() as download:
            tab.locator('button#print').click()
            page.locator('.dropdown-menu:visible a', has_text='电子票').click()
        assert download.value.suggested_filename == (
            f'电子票-{number.input_value()}.html')
        printed_path = tmp_path / 'passes.html'
        download.value.save_as(printed_path)
        printed = page.context.browser.new_page(
            viewport={'width': 397, 'height': 559})  # A6 at 96 dpi
        printed.goto(printed_path.as_uri())
        shot(printed, 'pass-3-printed')
        assert [scan(i.screenshot()) for i in printed.locator(
                'img.qr').all()] == [[p['code']] for p in passes]
        text = printed.locator('body').inner_text()
        assert "证件号码" in text and "1101**********" in text
        pdf = printed.pdf(prefer_css_page_size=True)
        boxes = re.findall(rb'/MediaBox\s*\[0 0 ([0-9.]+) ([0-9.]+)\]', pdf)
        assert len(boxes) == len(passes)
        for width, height in boxes:  # 105 mm x 148 mm in points
            assert abs(float(width) - 297.6) < 2, width
            assert abs(float(height) - 419.5) < 2, height
        printed.close()

        # The pass form (电子票 list → a pass).
        open_menu(page, '电子票')
        tab = active_tab(page, "门票预约 / 电子票")
        tab.locator('td', has_text='有效').first.dblclick()
        image = tab.locator('.form-image img')
        wait_loaded(page, image)
        shot(page, 'pass-2-pass-form')
        shown = tab.locator('input[name="code"]').input_value()
        booking = tab.locator('input[name="booking"]').input_value()
        assert shown in [p['code'] for p in passes_of(booking)]
        assert scan(image.screenshot()) == [shown]
    except Exception:
        shot(page, 'pass-failure')
        raise
