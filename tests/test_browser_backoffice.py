"""A ticket manager uses the sao back office in headless Chromium: logs in
(two steps), sees the UI in Chinese, opens 票务管理 → 票据管理 and creates a
ticket. Screenshots go to test-artifacts/ for a person to look at."""
import pytest
from zl_testing import ROOT, rpc, run_proteus

pytestmark = pytest.mark.browser

LOGIN, PASSWORD = 'ticketmgr', 'Ticket-Mgr-2026'
ARTIFACTS = ROOT / 'test-artifacts'
# Debian's chromium as root in a container (TRYTON-NOTES.md); playwright
# adds --headless and a fresh profile itself.
CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic',
    '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync']

CREATE_MANAGER = f'''
from trytond.pool import Pool
from trytond.transaction import Transaction
with Transaction().start(config.database_name, 0, readonly=True):
    group_id = Pool().get('ir.model.data').get_id(
        'zl_ticket_core', 'group_ticket_manager')
Group = Model.get('res.group')
Lang = Model.get('ir.lang')
User = Model.get('res.user')
user = User(login={LOGIN!r}, name='票务管理员', password={PASSWORD!r})
user.language, = Lang.find([('code', '=', 'zh_CN')])
user.groups.append(Group(group_id))
user.save()
'''


@pytest.fixture(scope='module')
def backoffice(sqlite_database):
    config, database = sqlite_database
    run_proteus(config, database, CREATE_MANAGER)
    return config, database


@pytest.fixture
def page():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path='/usr/bin/chromium', args=CHROMIUM_ARGS)
        # An English browser: Chinese must come from the user's language.
        page = browser.new_page(
            locale='en-US', viewport={'width': 1280, 'height': 800})
        page.set_default_timeout(30_000)
        yield page
        browser.close()


def shot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    # animations='disabled' finishes fades, e.g. of the login dialog
    page.screenshot(path=ARTIFACTS / f'backoffice-{name}.png',
        animations='disabled')


def test_ticket_manager_creates_ticket(backoffice, server, page):
    config, database = backoffice
    url = server(config, database)
    try:
        # Step 1: database and user; step 2: password in a dialog.
        page.goto(url + '/')
        if page.locator('select#database').is_visible():
            page.select_option('select#database', database)
        page.fill('input#login', LOGIN)
        shot(page, '1-login')
        page.click('.modal button[type=submit]')
        page.fill('.modal input[type=password]', PASSWORD)
        shot(page, '2-password')
        page.keyboard.press('Enter')

        menu = page.locator('#menu')
        top = menu.locator('tr', has=page.locator('div[title="票务管理"]'))
        top.wait_for()
        top.locator('.expander').click()
        menu.locator('div[title="票据管理"]').click()
        tab = page.locator('#tabcontent .tab-pane.active')
        tab.get_by_text('票务管理 / 票据管理').first.wait_for()
        shot(page, '3-ticket-list')
        # sao's own strings follow the user's language too
        new = tab.locator('button#new_')
        assert new.get_attribute('title') == '新建'

        new.click()
        tab.locator('input[name="name"]').fill('浏览器测试门票')
        tab.locator('input[name="code"]').fill('PW-001')
        shot(page, '4-ticket-form')
        tab.locator('button#save').click()

        # Saved: the server has it, no error dialog is open, and the list
        # (after switching view) shows it.
        session = login_rpc(url, database)
        page.wait_for_function('() => !document.querySelector('
            '"#tabcontent .tab-pane.active button#save:not([disabled])")')
        assert not page.locator('.modal.in').is_visible()
        found = rpc(url, 'model.zl.ticket.search_read',
            [[('code', '=', 'PW-001')], 0, None, None, ['name'], {}],
            database=database, session=session)
        assert [t['name'] for t in found] == ['浏览器测试门票']
        tab.locator('button#switch_').click()
        tab.locator('td', has_text='PW-001').wait_for()
        shot(page, '5-ticket-saved')
    except Exception:
        shot(page, 'failure')
        raise


def login_rpc(url, database):
    user_id, token, *_ = rpc(url, 'common.db.login',
        [LOGIN, {'password': PASSWORD}, 'zh_CN'], database=database)
    return f'{LOGIN}:{user_id}:{token}'
