# This file is part of zhonglian-ticketing. See README.md for the licence.
"""The H5 visitor page (addons/zl_miniprogram/h5/) in a phone-sized
headless Chromium against a real site: its UI contract (roles, labels,
the Chinese texts), the booking flows end to end with WeChat login
through the stand-in, and its accessibility.  What the page did is
checked through the visitor API as the same person.  Screenshots go to
test-artifacts/h5-*.png for a person to look at."""
import datetime as dt
import json
import random
import re
import time

import pytest
from h5_page import (
    BANNER_CAPTION,
    EXPO,
    OVERFLOW,
    SITE_NAME,
    Visitor,
    axe_violations,
    chromium,
    document_cases,
    h5_site,
    masked,
    month_day,
    opens_text,
    phone_cases,
    qr_codes,
    resident_cases,
    serve_axe,
    session_label,
)
from playwright.sync_api import expect, sync_playwright
from visitor_api import booking_request, visitor
from zl_testing import resident_id

from trytond.modules.zl_reservation.identity import (
    is_valid_id,
    is_valid_mobile,
    make_resident_id,
    normalize_id,
)

pytestmark = [pytest.mark.postgresql, pytest.mark.browser]


@pytest.fixture(scope='module')
def site(pg_template, tmp_path_factory, server_module):
    yield from h5_site(pg_template, tmp_path_factory, server_module)


@pytest.fixture(scope='module')
def browser():
    # Two workers on two cores, a booking and a login: more than the 5 s
    # expect() waits by default (reset for the other files).
    expect.set_options(timeout=15_000)
    with sync_playwright() as playwright:
        browser = chromium(playwright)
        yield browser
        browser.close()
    expect.set_options(timeout=5_000)


@pytest.fixture
def visit(browser, site):
    """visit(person, width=, height=): a new phone of that WeChat person;
    the test fails on any script error, CSP refusal or unexpected HTTP
    error seen on it"""
    visitors = []

    def new(person, **size):
        visitors.append(Visitor(browser, site, person, **size))
        return visitors[-1]
    yield new
    problems = [p for v in visitors for p in v.problems()]
    for v in visitors:
        v.close()
    assert not problems, '\n'.join(problems)


def wait_until(check, timeout=5):
    "Poll check() (the slots' answers are up to a second old)"
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, 'condition not reached'
        time.sleep(0.1)


def bookings(site, person):
    status, _, data = site.visitor(person)('GET', '/bookings')
    assert status == 200, data
    return data['bookings']


def booking_posts(h):
    "The bodies of the page's POST /bookings, as they are sent"
    bodies = []
    h.page.on('request', lambda r: bodies.append(json.loads(r.post_data))
        if r.method == 'POST' and r.url.endswith('/bookings') else None)
    return bodies


def fill(site, ticket, slot, people, person):
    "Another person books people places of the slot over the API"
    api = site.visitor(person)
    status, _, data = api('POST', '/bookings', booking_request(
            site.ids, slot, [visitor(n) for n in people], ticket_id=ticket,
            contact={'name': '包场', 'phone': '13900139000'}))
    assert status == 201, data
    return api


def test_individual_flow(site, visit):
    ids, person, date = site.ids, 'h5-alice', site.ids['tomorrow']
    before = site.slot(ids['free'], date, '全天')
    h = visit(person)
    page = h.page
    h.open()
    h.screen(SITE_NAME)
    banner = page.get_by_role('img', name=BANNER_CAPTION)
    expect(banner).to_be_visible()
    page.wait_for_function('i => i.complete && i.naturalWidth == 750',
        arg=banner.element_handle())
    expect(page.get_by_role('heading', level=2, name='公告')).to_be_visible()
    expect(page.get_by_text('开放时间')).to_be_visible()
    expect(page.get_by_role('heading', level=2, name='推荐门票')
        ).to_be_visible()
    h.shot(1, 'home')
    page.get_by_role('main').get_by_role(
        'link', name='全部门票', exact=True).click()
    h.screen('全部门票')
    card = page.get_by_role('link', name=re.compile('^' + EXPO))
    expect(card).to_contain_text('¥80.00')
    struck = card.get_by_text('¥100.00')
    assert struck.evaluate('e => ["S", "DEL"].includes(e.tagName) || '
        'getComputedStyle(e).textDecorationLine.includes("line-through")')
    h.shot(2, 'list')
    h.to_ticket('自由行')
    for text in ('可退票', '馆藏精品常设展。', '北京市东城区景山前街4号'):
        expect(page.get_by_text(text).first).to_be_visible()
    expect(page.get_by_role('link', name='010-12345678')).to_have_attribute(
        'href', 'tel:010-12345678')
    h.shot(3, 'ticket')
    h.button('立即预约').click()
    h.screen('选择日期和场次')
    h.shot(4, 'dates')
    chip = h.date_chip(date, '可预约')
    chip.click()
    expect(chip).to_have_attribute('aria-pressed', 'true')
    following = h.button('下一步')
    expect(following).to_be_disabled()
    h.session(session_label(before)).check()
    expect(following).to_be_enabled()
    h.shot(5, 'sessions')
    following.click()
    h.screen('填写游客信息')
    number = resident_id(5001)
    h.fill_visitor(1, '张三', number, '13800138000')
    h.fill_contact('张三', '13800138000')
    h.to_confirm()
    day = dt.date.fromisoformat(date)
    for text in ('自由行', month_day(day), '00:00-23:59', masked(number),
            '开场前可免费取消'):
        expect(page.get_by_text(text).first).to_be_visible()
    h.shot(7, 'confirm')
    h.button('提交预约').click()
    h.screen('电子门票')
    booking, = bookings(site, person)
    code = booking['passes'][0]['code']
    qr = page.get_by_role('img', name=f'入园二维码 {code}')
    page.wait_for_function('i => i.complete && i.naturalWidth > 0',
        arg=qr.element_handle())
    assert qr.bounding_box()['width'] >= 240
    for text in (code, booking['number'], '已预约', '可入园 1 人'):
        expect(page.get_by_text(text, exact=True)).to_be_visible()
    qr.evaluate('e => e.scrollIntoView({block: "center"})')
    assert qr_codes(h.shot(8, 'eticket')) == [code]
    wait_until(lambda: site.slot(ids['free'], date, '全天')['available']
        == before['available'] - 1)

    cancel = h.button('取消预约')
    cancel.click()
    dialog = page.get_by_role('dialog', name='确认取消预约？')
    expect(dialog).to_be_visible()
    page.keyboard.press('Escape')
    expect(dialog).to_be_hidden()
    expect(cancel).to_be_focused()
    cancel.click()
    until = dt.datetime.fromisoformat(booking['cancel_until'])
    expect(dialog).to_contain_text('取消后名额立即释放，已付款项原路退回。')
    expect(dialog).to_contain_text(
        f'{month_day(until)} {until:%H:%M} 前可取消')
    h.shot(9, 'cancel-dialog')
    dialog.get_by_role('button', name='确认取消', exact=True).click()
    expect(dialog).to_be_hidden()
    booking, = bookings(site, person)
    assert booking['state'] == 'cancelled', booking
    expect(page.get_by_text('已取消', exact=True)).to_be_visible()
    expect(qr).to_have_count(0)
    expect(page.get_by_text('已失效', exact=True)).to_be_visible()
    h.shot(10, 'cancelled')
    wait_until(lambda: site.slot(ids['free'], date, '全天')['available']
        == before['available'])
    h.nav('我的预约', '我的预约')
    expect(page.get_by_role('link', name=(
                f'自由行 {month_day(day)} 全天 已取消'))).to_be_visible()
    h.shot(11, 'my-bookings')


def test_invalid_id_number(site, visit):
    ids, person, date = site.ids, 'h5-bob', site.ids['tomorrow']
    before = site.slot(ids['free'], date, '全天')
    h = visit(person)
    page, posts = h.page, booking_posts(h)
    h.open(f'#/tickets/{ids["free"]}')
    h.screen('自由行')
    h.to_visitors(date, session_label(before))
    fieldset = page.get_by_role('group', name='游客 1')
    name = fieldset.get_by_label('姓名', exact=True)
    number = fieldset.get_by_label('证件号码')
    phone = fieldset.get_by_label('手机号码')
    # Nothing typed: 下一步 shows the errors and goes to the first one.
    h.button('下一步').click()
    expect(name).to_be_focused()
    expect(name).to_have_attribute('aria-invalid', 'true')
    expect(name).to_have_accessible_description(re.compile('请输入姓名'))
    expect(number).to_have_accessible_description(
        re.compile('请输入证件号码'))
    name.fill('李四')
    expect(name).not_to_have_attribute('aria-invalid', 'true')
    valid = resident_id(5101)
    wrong = valid[:-1] + next(c for c in '0123456789X' if c != valid[-1])
    number.press_sequentially(wrong)
    # Shown while typing: the focus never left the field.
    expect(number).to_be_focused()
    expect(number).to_have_attribute('aria-invalid', 'true')
    expect(number).to_have_accessible_description(
        re.compile('身份证校验位不正确，请核对'))
    phone.fill('1380013800')
    phone.blur()
    expect(phone).to_have_accessible_description(
        re.compile('手机号码格式不正确'))
    h.shot(6, 'visitor-error')
    h.button('下一步').click()
    expect(number).to_be_focused()
    h.screen('填写游客信息')
    number.fill(valid[:6] + '19901301' + valid[14:])
    number.blur()
    expect(number).to_have_accessible_description(
        re.compile('证件号码格式不正确'))
    number.fill(valid)
    expect(number).not_to_have_attribute('aria-invalid', 'true')
    expect(number).not_to_have_accessible_description(
        re.compile('证件号码|身份证'))
    assert posts == [] and bookings(site, person) == []
    assert site.slot(ids['free'], date, '全天')['available'] == (
        before['available'])


def test_sold_out(site, visit):
    ids, person = site.ids, 'h5-carol'
    slots, tomorrow, later = ids['expo_slots'], ids['tomorrow'], ids['later']
    for n, session in enumerate(['上午', '下午']):
        fill(site, ids['expo'], slots[tomorrow][session],
            range(6001 + 3 * n, 6004 + 3 * n), 'h5-filler')
    wait_until(lambda: site.slot(ids['expo'], tomorrow, '下午')['state']
        == 'sold_out')
    h = visit(person)
    page = h.page
    h.open('#/tickets')
    h.screen('全部门票')
    h.to_ticket(EXPO)
    h.button('立即预约').click()
    h.screen('选择日期和场次')
    chip = h.date_chip(tomorrow, '约满')
    expect(chip).to_be_visible()
    chip.click()
    for session in ('上午', '下午'):
        radio = h.session(re.compile(f'^{session} .*约满'))
        expect(radio).to_be_disabled()
    expect(h.button('下一步')).to_be_disabled()

    # The race: the last places go while the visitor confirms.
    h.date_chip(later, '可预约').click()
    h.session(session_label(site.slot(ids['expo'], later, '上午'))).check()
    h.button('下一步').click()
    h.screen('填写游客信息')
    h.fill_visitor(1, '王五', resident_id(5151), '13800138001')
    h.fill_contact('王五', '13800138001')
    h.to_confirm()
    other = fill(site, ids['expo'], slots[later]['上午'], range(6011, 6014),
        'h5-filler-2')
    status, _, refusal = other('POST', '/bookings', booking_request(
            ids, slots[later]['上午'], [visitor(6014)],
            ticket_id=ids['expo']), headers={'Accept-Language': 'zh-CN'})
    assert status == 409 and refusal['error']['code'] == 'sold_out'
    h.expect_http(409, r'/bookings$')
    h.button('提交预约').click()
    alert = page.get_by_role('alert')
    expect(alert).to_contain_text(refusal['error']['message'])
    h.shot(12, 'sold-out')
    h.button('重新选择场次').click()
    h.screen('选择日期和场次')
    chip = h.date_chip(later, '可预约')
    if chip.get_attribute('aria-pressed') != 'true':
        chip.click()
    expect(h.session(re.compile('^上午 .*约满'))).to_be_disabled()
    expect(h.session(re.compile('^下午 .*余3'))).to_be_enabled()
    assert bookings(site, person) == []


def test_not_yet_open(site, visit):
    ids = site.ids
    status, _, data = site.api('GET', f'/tickets/{ids["free"]}/slots')
    assert status == 200, data
    waiting = [s for s in data['slots'] if s['state'] == 'not_yet_open']
    assert waiting, data
    slot = waiting[0]
    opens = opens_text(slot['opens_at'])
    h = visit('h5-dave')
    page = h.page
    h.open(f'#/tickets/{ids["free"]}')
    h.screen('自由行')
    h.button('立即预约').click()
    h.screen('选择日期和场次')
    chip = h.date_chip(slot['date'], opens)
    chip.click()
    expect(page.get_by_role('status').filter(has_text=opens)).to_be_visible()
    expect(page.get_by_role('radio', disabled=False)).to_have_count(0)
    expect(h.button('下一步')).to_be_disabled()
    h.shot(13, 'not-yet-open')


def confirm_screen(site, h, n):
    "An individual 自由行 booking for tomorrow, up to 确认预约"
    ids, date = site.ids, site.ids['tomorrow']
    h.open(f'#/tickets/{ids["free"]}')
    h.screen('自由行')
    h.to_visitors(date, session_label(site.slot(ids['free'], date, '全天')))
    h.fill_visitor(1, f'游客{n}', resident_id(n), '13800138000')
    h.fill_contact(f'游客{n}', '13800138000')
    h.to_confirm()


def test_double_tap(site, visit):
    person = 'h5-erin'
    h = visit(person)
    posts = booking_posts(h)
    confirm_screen(site, h, 5201)
    h.button('提交预约').dblclick()
    h.screen('电子门票')
    booking, = bookings(site, person)
    expect(h.page.get_by_text(booking['number'], exact=True)).to_be_visible()
    assert posts and len({p['idempotency_key'] for p in posts}) == 1, posts


def test_lost_answer(site, visit):
    person = 'h5-frank'
    h = visit(person)
    page, posts, lost = h.page, [], []

    def answer_lost(route):
        if route.request.method != 'POST':
            return route.continue_()
        posts.append(json.loads(route.request.post_data))
        if lost:
            return route.continue_()
        # The booking is made, its answer never arrives.
        lost.append(route.fetch())
        route.abort()
    page.route('**/bookings', answer_lost)
    confirm_screen(site, h, 5202)
    h.expect_http('failed', r'/bookings$')
    h.button('提交预约').click()
    expect(page.get_by_role('alert')).to_contain_text(
        '网络异常，预约结果未知，请重试')
    assert lost[0].status == 201
    h.button('重试').click()
    h.screen('电子门票')
    booking, = bookings(site, person)
    assert booking['number'] == lost[0].json()['number']
    expect(page.get_by_text(booking['number'], exact=True)).to_be_visible()
    assert len(posts) == 2, posts
    assert posts[0]['idempotency_key'] == posts[1]['idempotency_key']


def test_group_from_promo(site, visit):
    ids, person, date = site.ids, 'h5-grace', site.ids['tomorrow']
    scene = ids['scene']
    h = visit(person)
    page, posts = h.page, booking_posts(h)
    h.open(f'?scene={scene}')
    h.screen('团体票')
    status, _, data = site.api('GET', f'/tickets/{ids["group"]}/slots'
        f'?promo={scene}&from={date}&to={date}')
    assert status == 200, data
    h.to_visitors(date, session_label(data['slots'][0]), group=True)
    group = page.get_by_role('group', name='团体信息')
    group.get_by_label('团体名称').fill('星光小学')
    group.get_by_label('领队姓名').fill('王老师')
    size = group.get_by_label('团体人数')
    expect(group.get_by_text('5-30 人')).to_be_visible()
    size.fill('4')
    size.blur()
    expect(size).to_have_attribute('aria-invalid', 'true')
    expect(size).to_have_accessible_description(
        re.compile('团体人数须在 5-30 人之间'))
    h.shot(14, 'group-form')
    size.fill('12')
    expect(size).not_to_have_attribute('aria-invalid', 'true')
    group.get_by_label('联系人', exact=True).fill('王老师')
    group.get_by_label('联系电话', exact=True).fill('13800138000')
    h.to_confirm()
    h.button('提交预约').click()
    h.screen('电子门票')
    expect(page.get_by_text('可入园 12 人', exact=True)).to_be_visible()
    booking, = bookings(site, person)
    assert booking['group']['size'] == 12 and booking['quantity'] == 12
    assert booking['group']['name'] == '星光小学', booking
    assert [p.get('promo') for p in posts] == [scene], posts


def test_expired_and_unknown_promo(site, visit):
    h = visit('h5-heidi')
    h.expect_http(410, r'/promo/')
    h.open(f'?scene={site.ids["expired_scene"]}')
    expect(h.page.get_by_role('alert')).to_contain_text('推广码已过期')
    h.shot(15, 'expired-promo')
    h.page = h.new_page()
    h.expect_http(404, r'/promo/')
    h.open('?scene=nosuchscene1')
    expect(h.page.get_by_role('alert')).to_contain_text('推广码无效')


def test_accessibility(site, visit):
    """axe-core finds nothing serious on the booking screens; 200 % text
    never scrolls sideways at 375 or 414 px; the keyboard reaches 立即预约
    and every screen change focuses its h1"""
    ids, date = site.ids, site.ids['tomorrow']
    h = visit('h5-ivan')
    page, failures = h.page, []
    serve_axe(page)

    def focused(name):
        h1 = h.h1()
        try:
            expect(h1).to_be_focused(timeout=5_000)
        except AssertionError:
            failures.append(f'{name}: focus is not on the h1')
        title = f'{h1.inner_text().strip()} - {SITE_NAME}'
        if page.title() != title:
            failures.append(f'{name}: title {page.title()!r} != {title!r}')

    def audit(name):
        for v in axe_violations(page):
            failures.append(f'{name}: axe {v["impact"]} {v["id"]}: '
                f'{v["help"]}\n    ' + '\n    '.join(v['nodes']))
        page.evaluate('() => document.documentElement.style.fontSize'
            ' = "200%"')
        for width, height in [(414, 896), (375, 812)]:
            page.set_viewport_size({'width': width, 'height': height})
            overflow = page.evaluate(OVERFLOW)
            if overflow > 0:
                failures.append(f'{name}: {overflow} px sideways at '
                    f'{width} px with 200 % text')
        h.shot(16, f'text-200-{name}')
        page.evaluate('() => document.documentElement.style.fontSize = ""')

    h.open()
    h.screen(SITE_NAME)
    expect(page.get_by_role('img', name=BANNER_CAPTION)).to_be_visible()
    audit('home')
    page.get_by_role('main').get_by_role(
        'link', name='全部门票', exact=True).click()
    h.screen('全部门票')
    focused('list')
    expect(page.get_by_role('link', name=re.compile('^自由行'))
        ).to_be_visible()
    audit('list')
    h.to_ticket('自由行')
    focused('ticket')
    audit('ticket')
    # From the top of a freshly loaded ticket page, by keyboard only.
    page.reload()
    h.screen('自由行')
    book = h.button('立即预约')
    for _ in range(40):
        page.keyboard.press('Tab')
        if book.evaluate('b => b === document.activeElement'):
            break
    else:
        failures.append('ticket: Tab never reaches 立即预约')
    page.keyboard.press('Enter')
    h.screen('选择日期和场次')
    focused('dates')
    h.date_chip(date, '可预约').click()
    h.session(session_label(site.slot(ids['free'], date, '全天'))).check()
    audit('dates')
    h.button('下一步').click()
    h.screen('填写游客信息')
    focused('visitors')
    number = resident_id(5301)
    fieldset = h.fill_visitor(1, '赵六', number[:-1] + (
            '0' if number[-1] != '0' else '1'))
    expect(fieldset.get_by_label('证件号码')).to_have_attribute(
        'aria-invalid', 'true')
    audit('visitors')
    h.fill_visitor(1, '赵六', number, '13800138002')
    h.fill_contact('赵六', '13800138002')
    h.to_confirm()
    focused('confirm')
    audit('confirm')
    h.button('提交预约').click()
    h.screen('电子门票')
    focused('eticket')
    page.wait_for_function('i => i.complete && i.naturalWidth > 0',
        arg=page.get_by_role('img', name=re.compile('^入园二维码 ')
            ).element_handle())
    audit('eticket')
    assert not failures, '\n'.join(failures)


CHECKS = '''async ([numbers, documents, phones, today]) => {
    const checks = await import(new URL('idcard.js', location.href).href);
    return {
        resident: numbers.map(n => checks.residentIdError(n, today)),
        documents: documents.map(
            ([type, n]) => checks.idError(type, n, today) === null),
        phones: phones.map(p => checks.phoneError(p) === null),
    };
}'''


def resident_error(number):
    "What residentIdError must answer, from identity.py"
    if is_valid_id('resident_id', number):
        return None
    number = normalize_id('resident_id', number)
    if re.fullmatch('[0-9]{17}[0-9X]', number) and is_valid_id(
            'resident_id', make_resident_id(
                number[:6], number[6:14], number[14:17])):
        return 'checksum'
    return 'format'


def test_id_checks_agree_with_server(site, visit):
    today, rng = dt.date.today(), random.Random(11643)
    numbers = resident_cases(today, rng)
    documents, phones = document_cases(rng), phone_cases(rng)
    h = visit('h5-judy')
    h.open()
    h.screen(SITE_NAME)
    answers = h.page.evaluate(CHECKS, [numbers, documents, phones,
            today.isoformat()])
    assert [len(a) for a in answers.values()] == [
        len(numbers), len(documents), len(phones)]
    wrong = [f'resident_id {n!r}: page {a!r}, server {resident_error(n)!r}'
        for n, a in zip(numbers, answers['resident'])
        if a != resident_error(n)]
    wrong += [f'{t} {n!r}: page {a}, server {is_valid_id(t, n)}'
        for (t, n), a in zip(documents, answers['documents'])
        if a != is_valid_id(t, n)]
    wrong += [f'phone {p!r}: page {a}, server {is_valid_mobile(p)}'
        for p, a in zip(phones, answers['phones'])
        if a != is_valid_mobile(p)]
    assert not wrong, f'{len(wrong)} disagreements:\n' + '\n'.join(
        wrong[:60])
