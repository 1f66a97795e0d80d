# This file is part of zhonglian-ticketing. See README.md for the licence.
"""The H5 visitor page (addons/zl_miniprogram/h5/) in a phone-sized
headless Chromium against a real site: the individual booking flow end
to end with WeChat login through the stand-in, and the ways it can fail
(an invalid ID number, a sold-out session, a date not yet open, a double
tap, a lost answer).  What the page did is checked through the visitor
API as the same person.  Screenshots go to test-artifacts/h5-*.png for a
person to look at.  Groups, promotion links, companions, sessions and
accessibility: test_h5_group_access.py."""
import datetime as dt
import json
import re

import pytest
from h5_page import (
    BANNER_CAPTION,
    EXPO,
    SITE_NAME,
    booking_posts,
    bookings,
    h5_site,
    masked,
    month_day,
    opens_text,
    phone_browser,
    phones,
    qr_codes,
    session_label,
    wait_until,
)
from playwright.sync_api import expect
from visitor_api import booking_request, visitor
from zl_testing import resident_id

pytestmark = [pytest.mark.postgresql, pytest.mark.browser]


@pytest.fixture(scope='module')
def site(pg_template, tmp_path_factory, server_module):
    yield from h5_site(pg_template, tmp_path_factory, server_module)


@pytest.fixture(scope='module')
def browser():
    yield from phone_browser()


@pytest.fixture
def visit(browser, site):
    yield from phones(browser, site)


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
    # The engine's preview of cancelling now (no tiers: free), in the
    # page's language.
    _, _, data = site.visitor(person)('GET', f"/bookings/{booking['number']}",
        headers={'Accept-Language': 'zh-CN'})
    assert data['cancel_now'] == 'free'
    assert '免费' in data['cancel_preview']
    expect(dialog).to_contain_text(data['cancel_preview'])
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
    # The ticket's own rule (门票 → 销售参数), as the engine decides it.
    expect(page.get_by_text('每单最多 3 人')).to_be_visible()
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
    # Three visitors at most: the button stops there, and says why.
    add = h.button('添加游客')
    add.click()
    add.click()
    expect(add).to_be_disabled()
    expect(page.get_by_text('本票每次最多 3 位游客')).to_be_visible()
    h.button('删除游客 3').click()
    h.button('删除游客 2').click()
    expect(add).to_be_enabled()
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
