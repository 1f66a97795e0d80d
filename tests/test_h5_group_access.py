# This file is part of zhonglian-ticketing. See README.md for the licence.
"""The H5 visitor page beyond the individual flow (test_h5_page.py): a
group booking from a promotion link, expired and unknown codes, saved
companions, a session ended elsewhere, a site without WeChat login, and
accessibility (axe-core, 200 % text, keyboard, focus).  Same harness:
phone-sized Chromium, a real site on PostgreSQL, WeChat's stand-in."""
import json
import re

import pytest
from h5_page import (
    BANNER_CAPTION,
    OVERFLOW,
    SITE_NAME,
    axe_violations,
    booking_posts,
    bookings,
    h5_site,
    masked,
    phone_browser,
    phones,
    serve_axe,
    session_label,
    wait_until,
)
from playwright.sync_api import expect
from visitor_api import STAFF_PASSWORD
from zl_testing import Client, resident_id

from trytond.modules.zl_miniprogram import standin

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


def test_saved_companions(site, visit):
    """A saved companion is chosen with a tick; a new visitor ticked 保存为
    常用游客 is saved after the booking; the phone keeps no ID number once
    booked"""
    ids, person, date = site.ids, 'h5-kim', site.ids['tomorrow']
    api = site.visitor(person)
    saved, new = resident_id(5401), resident_id(5402)
    status, _, data = api('POST', '/companions', {
            'name': '周七', 'id_type': 'resident_id', 'id_number': saved})
    assert status == 201, data
    h = visit(person)
    page = h.page
    h.open('#/tickets')
    h.screen('全部门票')
    h.to_ticket('自由行')
    h.to_visitors(date, session_label(site.slot(ids['free'], date, '全天')))
    companions = page.get_by_role('group', name='常用游客')
    companions.get_by_role('checkbox', name=f'周七 {masked(saved)}').check()
    fieldset = h.fill_visitor(1, '吴八', new, '13800138008')
    fieldset.get_by_label('保存为常用游客').check()
    h.fill_contact('吴八', '13800138008')
    h.to_confirm()
    expect(page.get_by_text(masked(saved))).to_be_visible()
    expect(page.get_by_text(masked(new))).to_be_visible()
    h.button('提交预约').click()
    h.screen('电子门票')
    booking, = bookings(site, person)
    assert sorted(v['name'] for v in booking['visitors']) == ['吴八', '周七']
    assert booking['quantity'] == 2
    wait_until(lambda: sorted(c['name'] for c in api(
                'GET', '/companions')[2]['companions']) == ['吴八', '周七'])
    stored = page.evaluate('() => JSON.stringify([Object.entries('
        'sessionStorage), Object.entries(localStorage)])')
    assert new not in stored and saved not in stored, stored


def test_session_ended_elsewhere(site, visit):
    "A logged-out token (401) logs in again and comes back to the screen"
    person = 'h5-leo'
    h = visit(person)
    page = h.page
    h.open()
    h.screen(SITE_NAME)
    h.nav('我的预约', '我的预约')
    expect(page.get_by_text('暂无预约')).to_be_visible()
    token = json.loads(page.evaluate(
            "() => localStorage.getItem('zl-h5-token')"))['token']
    status, _, _ = site.api('POST', '/auth/logout', token=token)
    assert status == 200
    h.expect_http(401, r'/bookings$')
    # Leaving for the login page drops what was still loading.
    h.expect_http('failed', r'/bookings$')
    h.nav('首页', SITE_NAME)
    h.nav('我的预约', '我的预约')
    expect(page.get_by_text('暂无预约')).to_be_visible()
    again = json.loads(page.evaluate(
            "() => localStorage.getItem('zl-h5-token')"))['token']
    assert again != token
    assert site.api('GET', '/bookings', token=again)[0] == 200


def test_site_without_wechat_login(site, visit):
    """No Official Account configured: browsing works, booking says that
    WeChat login is not open (on every worker, at once)"""
    staff = Client(site.url, site.database, 'r01', STAFF_PASSWORD)
    staff('model.zl.mp.configuration.write', [1], {'oa_secret': ''})
    try:
        h = visit('h5-mia')
        page = h.page

        def settings():
            page.goto(h.site.page_url)
            return json.loads(page.locator('#zl-config').text_content())
        wait_until(lambda: settings()['oauth'] is None)
        h.screen(SITE_NAME)
        h.nav('我的预约', '暂未开放微信登录')
        h.shot(17, 'no-wechat-login')
    finally:
        staff('model.zl.mp.configuration.write', [1],
            {'oa_secret': standin.DEFAULT_APPS['oa'][1]})


def test_birth_date_for_other_documents(site, visit):
    """Another document than the resident ID asks its birth date (the
    site's minors rules, a gate's child flag); the booking carries it"""
    ids, person, date = site.ids, 'h5-nora', site.ids['tomorrow']
    h = visit(person)
    page = h.page
    h.open('#/tickets')
    h.screen('全部门票')
    h.to_ticket('自由行')
    h.to_visitors(date, session_label(site.slot(ids['free'], date, '全天')))
    fieldset = page.get_by_role('group', name='游客 1')
    birth = fieldset.get_by_label('出生日期')
    expect(birth).to_be_hidden()
    fieldset.get_by_label('姓名', exact=True).fill('Nora Smith')
    fieldset.get_by_label('证件类型').select_option('passport')
    expect(birth).to_be_visible()
    fieldset.get_by_label('证件号码').fill('E12345678')
    birth.fill('2016-05-04')
    h.fill_contact('Nora Smith', '13800138009')
    posts = booking_posts(h)
    h.to_confirm()
    h.button('提交预约').click()
    h.screen('电子门票')
    assert posts[0]['visitors'][0]['birth_date'] == '2016-05-04', posts
    booking, = bookings(site, person)
    assert booking['visitors'][0]['id_type'] == 'passport'
