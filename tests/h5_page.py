# This file is part of zhonglian-ticketing. See README.md for the licence.
"""The site and the browser for the H5 visitor page's tests
(test_h5_page.py): the visitor API's site (visitor_api.py) plus a
published home page and a small exhibition ticket of its own plan, and a
phone-sized Chromium context per visitor that records what a person
would call broken (script errors, CSP refusals, unexpected HTTP errors)."""
import dataclasses
import datetime as dt
import io
import json
import re
import time

from playwright.sync_api import expect, sync_playwright
from visitor_api import Api, drop_site, make_site
from zl_testing import ARTIFACTS, CHROMIUM_ARGS, ROOT, run_proteus

from trytond.modules.zl_miniprogram import standin

AXE = ROOT / '.axe' / 'node_modules' / 'axe-core' / 'axe.min.js'
SITE_NAME = '众链博物馆'
BANNER_CAPTION = '春季特展'
EXPO = '特展票'
# What the page needs beyond visitor_api.SETUP: a published home page, a
# described 自由行 (free: a cancelled booking of a paid ticket becomes
# refunded, lifecycle.py), and a priced 特展票 alone in a plan of two
# small sessions bookable from tomorrow, for the sold-out tests.
EXTRA = '''
import datetime as dt, io, json
from decimal import Decimal
from zoneinfo import ZoneInfo
from PIL import Image, ImageDraw
Ticket = Model.get('zl.ticket')
Plan = Model.get('zl.reservation.plan')
Slot = Model.get('zl.reservation.slot')
Homepage = Model.get('zl.mp.homepage')
mp = Model.get('zl.mp.configuration')(1).seller
free = Ticket(%(free)d)
free.phone, free.address = '010-12345678', '北京市东城区景山前街4号'
free.intro = '<p>馆藏精品常设展。</p>'
free.carousel = True
free.save()
expo = Ticket(name=%(expo)r, code='EXPO', per_user_limit=0,
    price=Decimal('80'), original_price=Decimal('100'),
    booking_visitors_max=3)
expo.save()
expo.click('put_on_shelf')
mp.tickets.append(Ticket(expo.id))
mp.save()
today = dt.datetime.now(ZoneInfo('Asia/Shanghai')).date()
plan = Plan(name='特展', start_date=today + dt.timedelta(days=1),
    end_date=today + dt.timedelta(days=2), advance_days=7,
    release_time=dt.time(0))
plan.sessions.new(name='上午', checkin_start=dt.time(9),
    checkin_end=dt.time(12), capacity=3)
plan.sessions.new(name='下午', checkin_start=dt.time(13),
    checkin_end=dt.time(17), capacity=3)
plan.tickets.append(Ticket(expo.id))
plan.save()
plan.click('activate')
slots = {}
for slot in Slot.find([('plan', '=', plan.id)]):
    slots.setdefault(slot.date.isoformat(), {})[slot.session.name] = slot.id
image = Image.new('RGB', (750, 400), (176, 38, 38))
ImageDraw.Draw(image).rectangle([20, 20, 730, 380], outline=(255, 215, 0),
    width=6)
data = io.BytesIO()
image.save(data, 'PNG')
page = Homepage(name='春季首页', template='classic', site_name=%(site)r,
    theme_color='#B02626')
page.banners.new(image=data.getvalue(), link='ticket', ticket=Ticket(free.id),
    caption=%(caption)r)
page.notices.new(title='开放时间', content='周二至周日 9:00-17:00，周一闭馆')
page.save()
page.click('update_page')
page.click('publish')
print(json.dumps({'expo': expo.id, 'expo_slots': slots}))
'''
WEEKDAYS = '一二三四五六日'


@dataclasses.dataclass
class Site:
    url: str
    database: str
    ids: dict
    standin: str
    # slot() reads so far
    reads: int = 0

    @property
    def api(self):
        return Api(self.url, self.database)

    @property
    def page_url(self):
        return f'{self.url}/{self.database}/zl_mp/h5/'

    def visitor(self, person):
        "The visitor API as the person the page logs in (WeChat web)"
        return self.api.login(person, app='wechat-oa')

    def slot(self, ticket, date, session):
        """The slot of the ticket on the date (ISO) and session, as the
        API says it now"""
        # Each worker answers a range from its reading of the last second:
        # ask for ranges not asked for lately.
        self.reads += 1
        end = dt.date.fromisoformat(date) + dt.timedelta(
            days=self.reads % 50)
        status, _, data = self.api(
            'GET', f'/tickets/{ticket}/slots?from={date}&to={end}')
        assert status == 200, data
        slot, = [s for s in data['slots']
            if s['date'] == date and s['session'] == session]
        return slot


def h5_site(pg_template, tmp_path_factory, server_module):
    "For a module-scoped fixture: a stand-in, the site and gunicorn"
    server, wechat_url = standin.start()
    folder = tmp_path_factory.mktemp('h5')
    config, name, ids = make_site(
        pg_template, folder, wechat_url, standin.DEFAULT_APPS)
    try:
        ids.update(json.loads(run_proteus(config, name, EXTRA % {
                        'free': ids['free'], 'expo': EXPO,
                        'site': SITE_NAME, 'caption': BANNER_CAPTION})))
        url = server_module(config, name, workers=2)
        yield Site(url, name, ids, wechat_url)
    finally:
        drop_site(name)
        server.shutdown()
        server.server_close()


def chromium(playwright):
    return playwright.chromium.launch(
        executable_path='/usr/bin/chromium', args=CHROMIUM_ARGS)


class Visitor:
    """A phone (375×812 by default) whose WeChat person is `person`, with
    one page; `problems()` lists what went wrong on it"""
    # Chromium reports every HTTP error once more on the console.
    RESOURCE = 'Failed to load resource'

    def __init__(self, browser, site, person, width=375, height=812):
        self.site, self.person = site, person
        self.context = browser.new_context(
            viewport={'width': width, 'height': height},
            device_scale_factor=2, is_mobile=True, has_touch=True,
            # No transitions: axe and screenshots see the settled screen.
            locale='zh-CN', reduced_motion='reduce')
        self.context.add_cookies([{'name': standin.PERSON_COOKIE,
                    'value': person, 'url': site.standin}])
        self.errors = []
        # (status or 'failed', URL pattern) a test expects
        self.expected = []
        self.page = self.new_page()

    def new_page(self):
        "Another page (tab) of this phone, watched as the first"
        page = self.context.new_page()
        page.set_default_timeout(20_000)
        page.on('console', self._console)
        page.on('pageerror', lambda e: self.errors.append(f'script: {e}'))
        page.on('response', self._response)
        page.on('requestfailed', self._failed)
        return page

    def expect_http(self, status, pattern):
        "An answer (HTTP status or 'failed') the test provokes on purpose"
        self.expected.append((status, re.compile(pattern)))

    def _expected(self, status, url):
        return any(s == status and p.search(url) for s, p in self.expected)

    def _console(self, message):
        # CSP refusals are console errors, and so fail the test.
        if message.type == 'error' and not message.text.startswith(
                self.RESOURCE):
            self.errors.append(f'console: {message.text[:500]}')

    def _response(self, response):
        if (response.status >= 400
                and not self._expected(response.status, response.url)):
            self.errors.append(f'HTTP {response.status} {response.url}')

    def _failed(self, request):
        # Pictures may be dropped with the screen that showed them.
        if (request.resource_type in {'fetch', 'xhr', 'script',
                    'stylesheet', 'document'}
                and not self._expected('failed', request.url)):
            self.errors.append(
                f'failed {request.url}: {request.failure}')

    def problems(self):
        errors, self.errors = self.errors, []
        return errors

    def close(self):
        self.context.close()

    # Screens ------------------------------------------------------------

    def open(self, query=''):
        self.page.goto(self.site.page_url + query)

    def h1(self):
        return self.page.get_by_role('heading', level=1)

    def screen(self, title):
        "Wait for the screen whose h1 is title"
        expect(self.h1()).to_have_text(title)

    def button(self, name):
        return self.page.get_by_role('button', name=name, exact=True)

    def nav(self, name, title):
        "A link of the tab bar, to the screen whose h1 is title"
        self.page.get_by_role('navigation', name='主导航').get_by_role(
            'link', name=name, exact=True).click()
        self.screen(title)

    def shot(self, number, name):
        "test-artifacts/h5-<number>-<name>.png; the PNG's bytes"
        ARTIFACTS.mkdir(exist_ok=True)
        return self.page.screenshot(
            path=ARTIFACTS / f'h5-{number:02d}-{name}.png',
            animations='disabled')

    def date_chip(self, date, state):
        return self.button(chip_name(date, state))

    def session(self, label):
        return self.page.get_by_role('group', name='场次').get_by_role(
            'radio', name=label)

    def to_ticket(self, name):
        "From the list of all tickets to the ticket's page"
        self.page.get_by_role('link', name=re.compile(
                '^' + re.escape(name))).first.click()
        self.screen(name)

    def to_visitors(self, date, session, group=False):
        """From the ticket page: 立即预约, the date, the session, 下一步;
        the page logs in through the stand-in"""
        self.button('立即预约').click()
        self.screen('选择日期和场次')
        self.date_chip(date, '可预约').click()
        self.session(session).check()
        self.button('下一步').click()
        self.screen('填写团体信息' if group else '填写游客信息')

    def fill_visitor(self, n, name, id_number, phone=''):
        fieldset = self.page.get_by_role('group', name=f'游客 {n}')
        fieldset.get_by_label('姓名', exact=True).fill(name)
        fieldset.get_by_label('证件类型').select_option('resident_id')
        fieldset.get_by_label('证件号码').fill(id_number)
        if phone:
            fieldset.get_by_label('手机号码').fill(phone)
        return fieldset

    def fill_contact(self, name, phone):
        for label, value in [('联系人', name), ('联系电话', phone)]:
            field = self.page.get_by_label(label, exact=True)
            if not field.input_value():
                field.fill(value)

    def to_confirm(self):
        self.button('下一步').click()
        self.screen('确认预约')


def chip_name(date, state):
    "A date chip's accessible name: 6月1日 周一 可预约"
    day = dt.date.fromisoformat(date)
    return f'{month_day(day)} 周{WEEKDAYS[day.weekday()]} {state}'


def month_day(day):
    return f'{day.month}月{day.day}日'


def opens_text(opens_at):
    "「6月1日 23:59 开放预约」 from the API's opens_at, as written there"
    moment = dt.datetime.fromisoformat(opens_at)
    return f'{month_day(moment)} {moment:%H:%M} 开放预约'


def session_label(slot):
    """A session radio's label: 全天 00:00-23:59 余50 (any number: the
    page's answer may be a second older or newer than the test's)"""
    start, end = (dt.datetime.fromisoformat(slot[k])
        for k in ('checkin_start', 'checkin_end'))
    return re.compile('^' + re.escape(
            f'{slot["session"]} {start:%H:%M}-{end:%H:%M} 余') + '[0-9]+$')


def qr_codes(png):
    "The texts of the QR codes in a screenshot"
    import zxingcpp
    from PIL import Image
    return [r.text for r in zxingcpp.read_barcodes(
            Image.open(io.BytesIO(png)))]


def masked(number):
    return number[:4] + '*' * (len(number) - 8) + number[-4:]


AXE_RUN = '''async () => {
    const result = await axe.run(document);
    return result.violations
        .filter(v => ['serious', 'critical'].includes(v.impact))
        .map(v => ({id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.map(n => n.target.join(' ') + ': '
                + n.failureSummary)}));
}'''


def serve_axe(page):
    """axe-core from the page's own origin: the page's CSP (script-src
    'self') refuses inline scripts, so add_script_tag(path=) cannot work
    and the CSP must stay on for the test to mean something"""
    page.route('**/zl_mp/h5/__axe.js', lambda route: route.fulfill(
            path=AXE, content_type='text/javascript'))


def axe_violations(page):
    "serious and critical axe-core violations on the current screen"
    if not page.evaluate('() => typeof axe !== "undefined"'):
        page.add_script_tag(url='__axe.js')
    return page.evaluate(AXE_RUN)


OVERFLOW = '''() => document.documentElement.scrollWidth
    - window.innerWidth'''


# The fixtures of the H5 test files, as generators (each file declares
# its own fixtures from these: one site per file) ------------------------

def phone_browser():
    "For a module-scoped `browser` fixture: one Chromium process"
    # Two workers on two cores, a booking and a login: more than the 5 s
    # expect() waits by default (reset for the other files).
    expect.set_options(timeout=15_000)
    with sync_playwright() as playwright:
        browser = chromium(playwright)
        yield browser
        browser.close()
    expect.set_options(timeout=5_000)


def phones(browser, site):
    """For a `visit` fixture: visit(person, width=, height=) is a new phone
    of that WeChat person; the test fails on any script error, CSP
    refusal or unexpected HTTP error seen on it"""
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
