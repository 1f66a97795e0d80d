"""A ticket manager uses the sao back office in headless Chromium: logs in
(two steps), sees the UI in Chinese, opens 票务管理 → 票据管理 and creates a
ticket. Screenshots go to test-artifacts/ for a person to look at."""
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from zl_testing import (
    login_session,
    open_menu,
    rpc,
    run_proteus,
    sao_login,
    shot,
)

pytestmark = pytest.mark.browser

LOGIN, PASSWORD = 'ticketmgr', 'Ticket-Mgr-2026'

CREATE_MANAGER = f'''
from trytond.pool import Pool
from trytond.transaction import Transaction
with Transaction().start(config.database_name, 0, readonly=True):
    group_id = Pool().get('ir.model.data').get_id(
        'zl_ticket_core', 'group_page_ticket')
Group = Model.get('res.group')
Lang = Model.get('ir.lang')
User = Model.get('res.user')
user = User(login={LOGIN!r}, name='票务管理员', password={PASSWORD!r})
user.language, = Lang.find([('code', '=', 'zh_CN')])
user.groups.append(Group(group_id))
user.save()
'''
# The form's record is stored (an id from the server) and unchanged
SAVED = '''() => {
    const tab = Sao.Tab.tabs.get_current();
    const record = tab && tab.screen && tab.screen.current_record;
    return Boolean(record) && record.id > 0 && !record.modified;
}'''
LIST_SHOWN = '''() => {
    const tab = Sao.Tab.tabs.get_current();
    const view = tab && tab.screen && tab.screen.current_view;
    return Boolean(view) && view.view_type == 'tree';
}'''


@pytest.fixture(scope='module')
def backoffice(sqlite_database):
    config, database = sqlite_database
    run_proteus(config, database, CREATE_MANAGER)
    return config, database


def test_ticket_manager_creates_ticket(backoffice, server, page):
    config, database = backoffice
    url = server(config, database)
    try:
        sao_login(page, url, database, LOGIN, PASSWORD, 'backoffice')
        open_menu(page, '票务管理', '票据管理')
        tab = page.locator('#tabcontent .tab-pane.active')
        tab.get_by_text('票务管理 / 票据管理').first.wait_for()
        shot(page, 'backoffice-3-ticket-list')
        # sao's own strings follow the user's language too
        new = tab.locator('button#new_')
        assert new.get_attribute('title') == '新建'

        new.click()
        tab.locator('input[name="name"]').fill('浏览器测试门票')
        tab.locator('input[name="code"]').fill('PW-001')
        shot(page, 'backoffice-4-ticket-form')
        tab.locator('button#save').click()

        # Saved: the server has it, no error dialog is open, and the list
        # (after switching view) shows it.
        session = login_session(url, database, LOGIN, PASSWORD, 'zh_CN')
        page.wait_for_function(SAVED)
        assert not page.locator('.modal.in').is_visible()
        found = rpc(url, 'model.zl.ticket.search_read',
            [[('code', '=', 'PW-001')], 0, None, None, ['name'], {}],
            database=database, session=session)
        assert [t['name'] for t in found] == ['浏览器测试门票']
        # sao ignores a switch while it is still busy with the save (a
        # loaded CI machine): switch until the list shows
        for _ in range(5):
            tab.locator('button#switch_').click()
            try:
                page.wait_for_function(LIST_SHOWN, timeout=10000)
                break
            except PlaywrightTimeout:
                continue
        tab.locator('td', has_text='PW-001').wait_for()
        shot(page, 'backoffice-5-ticket-saved')
    except Exception:
        shot(page, 'backoffice-failure')
        raise


