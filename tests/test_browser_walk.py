"""Every page of the back office opens, for every shipped role.

admin and each user of the demo (scripts/demo_data.py) log into sao in
headless Chromium and open every menu entry the server shows them (asked
as that user: the roles and the modules change what they see). On each
page they switch through every view and open a record from each list and
calendar; the window clerk books a visitor with 代客预约 to the end and
sees the booking. A page fails on a script or console error, a failed
request, an error dialog, 正在处理 for longer than BOUND seconds, a record
opening in another tab, a view it cannot reach, a list wider than a
1366-pixel screen, or an English word on screen.
Screenshots: test-artifacts/walk-<login>-<n>-<page>-<view>.png."""
import datetime as dt
import re

import pytest
from playwright.sync_api import Error, TimeoutError
from zl_testing import (
    ADMIN_PASSWORD,
    Client,
    SaoWatch,
    demo_data,
    demo_logins,
    load_demo,
    menu_entries,
    resident_id,
    sao_login,
    shot,
)

pytestmark = pytest.mark.browser

BOUND = 15  # seconds sao may show 正在处理
# Staff work in Chinese: none of these may show, as whole words (case
# counts) of the visible text. Codes, logins and the demo's data are upper
# case codes, lower case or Chinese; ALLOWED names the list columns whose
# text is English by nature (model: field names).
ENGLISH = """
    Access Action Actions Active Add Address Administration Administrator
    Attachment Attachments Available Basic Book Booked Booking Bookings
    Cancel Capacity Categories Category Children Close Closed Code
    Configuration Configure Contact Create Created Data Date Delete
    Description Distributor Distributors Edit Email Error Event Export
    Favorites Field Fields Filter Group Groups Home Hour Image Images Import
    Key Keys Kind Label Language Limit Log Login Logs Management Members Menu
    Menus Model Modified Name New Next Note Notes Open Operation Parameters
    Parent Pass Passes Password Period Periods Permissions Phone Plan
    Preferences Previous Price Print Processing Record Records Reload
    Remark Reservable Reservation Role Roles Sales Save Search Seller
    Sellers Sequence Session Sessions Settings Shelf Signing Slot Slots
    State Stock Switch System Take Ticket Ticketing Tickets Time Today Type
    User Users Visitor Visitors WeChat Wizard
    """.split()
ALLOWED = {
    'ir.translation': ['src'],  # the strings to translate
    }
WORDS = re.compile(r'(?<![A-Za-z])(%s)(?![A-Za-z])' % '|'.join(ENGLISH))
DEMO = demo_data()
LOGINS = demo_logins()

STATE = '''() => {
    const tab = Sao.Tab.tabs.get_current();
    const state = {tabs: Sao.Tab.tabs.length, tab: tab ? tab.id : null,
        wizard: jQuery('.wizard-dialog:visible').length};
    const screen = tab && tab.screen;
    state.screen = Boolean(screen);
    if (screen && screen.current_view) {
        const view = screen.current_view;
        state.type = view.view_type;
        state.view = view.view_type + ':' + view.view_id;
        state.views = screen.number_of_views;
        state.next = screen.next_view_type;
        state.editable = view.view_type == 'tree' && Boolean(view.editable);
        state.records = screen.group.length;
        state.record = screen.current_record ? screen.current_record.id : null;
        const table = view.view_type == 'tree' && view.table[0];
        state.overflow = table ? Math.round(table.getBoundingClientRect().width
            - table.parentElement.getBoundingClientRect().width) : 0;
        const button = tab.buttons.switch_;
        state.can_switch = Boolean(button) && !button.prop('disabled');
    }
    return state;
}'''
# The row of a menu entry in sao's menu tree, once it is drawn
MENU_ROW = '''(id) => {
    const find = rows => {
        for (const row of rows) {
            if (row.record.id === id) return row;
            const found = find(row.rows);
            if (found) return found;
        }
        return null;
    };
    const view = Sao.main_menu_screen && Sao.main_menu_screen.current_view;
    const row = view && find(view.rows || []);
    const drawn = row && row.el[0].querySelector('div[title]');
    return drawn ? row.el[0] : null;
}'''
MENU_SHOWN = f'(id) => Boolean(({MENU_ROW})(id))'
# A wizard, or a new tab shown with its view
OPENED = '''(tabs) => {
    if (jQuery('.wizard-dialog:visible').length) return true;
    const tab = Sao.Tab.tabs.get_current();
    return Sao.Tab.tabs.length > tabs && tab === Sao.Tab.tabs.at(-1)
        && (!tab.screen || Boolean(tab.screen.current_view));
}'''
# What a person reads (a drop-down shows its chosen option only) but the
# allowed columns of the list shown.
VISIBLE_TEXT = '''(allowed) => {
    let text = document.body.innerText;
    for (const select of document.querySelectorAll('select')) {
        if (select.multiple || select.size > 1) continue;  // a list box
        const chosen = select.selectedOptions[0];
        text = text.replace(select.innerText, chosen ? chosen.text : '');
    }
    const tab = Sao.Tab.tabs.get_current();
    const screen = tab && tab.screen;
    const view = screen && screen.current_view;
    const names = view && view.view_type == 'tree'
        && allowed[screen.model_name] || [];
    for (const column of names.length ? view.columns : []) {
        if (!names.includes(column.attributes.name)) continue;
        const cells = view.table[0].querySelectorAll(
            `td[headers="${column.header.attr('id')}"]`);
        for (const cell of cells) text = text.replace(cell.innerText, '');
    }
    return text;
}'''
# A cell of the list's first row to double-click: not a link, a button or
# a check box, which have clicks of their own.
PLAIN_CELL = '''() => {
    const row = Sao.Tab.tabs.get_current().screen.current_view.rows[0];
    for (const td of row ? row.el.children('td') : []) {
        if (td.innerText.trim() && td.checkVisibility() && !td.querySelector(
                'a, button, input')) {
            return td;
        }
    }
    return null;
}'''


@pytest.fixture(scope='module')
def demo(sqlite_database):
    config, name = sqlite_database
    load_demo(config, name)
    return config, name


@pytest.mark.parametrize('login, password', LOGINS,
    ids=[login for login, _ in LOGINS])
def test_every_page_opens(demo, server, page, login, password):
    config, name = demo
    url = server(config, name)
    client = Client(url, name, login, password)
    menus = menu_entries(client)
    assert menus, f'{login} sees no page'
    # Tryton's own Administration pages (admin's developer tools, not the
    # manual's) may be wider than the screen and keep some of Tryton's
    # English column titles; the product's pages must fit and be Chinese.
    admin = Client(url, name, 'admin', ADMIN_PASSWORD)
    core = admin('model.ir.model.data.get_id', 'ir', 'menu_administration')
    # Pages of the Tryton modules web_user brings along (party, country;
    # under 管理, for admin only) are theirs: a region's tree opens its
    # countries in a new tab by design.
    brought = {admin('model.ir.model.data.get_id', module, fs_id)
        for module, fs_id in [('party', 'menu_party'),
            ('country', 'menu_country'), ('web_user', 'menu_user_form')]}
    walk = Walk(page, client, (url, name, login, password))
    walk.start()
    for n, (path, (kind, action_id)) in enumerate(menus, 1):
        if brought & {p['id'] for p in path}:
            continue
        walk.fit = path[0]['id'] != core
        walk.open(n, path, kind, int(action_id))
    assert not walk.report(), '\n'.join(walk.report())


class Walk:
    "One user's walk through sao; report() says what went wrong, by page"

    def __init__(self, page, client, account):
        self.page, self.client, self.account = page, client, account
        self.login = account[2]
        self.watch = SaoWatch(page)
        self.problems = []
        self.english = {}  # word: the pages it shows on
        self.label = f'walk-{self.login}'
        self.shots = set()
        self.fit = True  # a page of the product: fits, and is Chinese

    def start(self):
        "Log in (again), on a 1366 x 768 screen"
        self.page.set_viewport_size({'width': 1366, 'height': 768})
        self.page.set_default_timeout(BOUND * 1000)
        sao_login(self.page, *self.account, f'walk-{self.login}')
        self.page.locator('#menu div[title]').first.wait_for()
        self.check()

    def restart(self):
        "A fresh sao: the session may survive, the login dialog may show"
        self.page.reload()
        self.watch.calls.clear()  # the old page's, never to finish
        try:
            self.page.locator('#menu div[title]').first.wait_for(
                timeout=5000)
        except TimeoutError:
            self.start()

    def fail(self, problem):
        problem = f'{self.label}: {problem}'
        if problem not in self.problems:
            self.problems.append(problem)

    def report(self):
        "The problems, then each English word: on how many pages, first"
        return self.problems + [
            f'English on screen: {word} ({len(pages)} pages, first '
            f'{pages[0]})' for word, pages in sorted(self.english.items())]

    def check(self):
        for problem in self.watch.problems():
            self.fail(problem)
        text = self.page.evaluate(VISIBLE_TEXT, ALLOWED)
        for word in sorted(set(WORDS.findall(text)) if self.fit else []):
            pages = self.english.setdefault(word, [])
            if self.label not in pages:
                pages.append(self.label)

    def settle(self):
        if self.watch.settle(BOUND):
            return True
        self.fail(f'正在处理 for more than {BOUND} s')

    def shot(self, view):
        if view not in self.shots:
            self.shots.add(view)
            shot(self.page, f'{self.label}-{view}')

    def state(self):
        return self.page.evaluate(STATE)

    @property
    def tab(self):
        return self.page.locator('#tabcontent > .tab-pane.active')

    def open(self, n, path, kind, action_id):
        "Open a menu entry from sao's menu, walk its page and leave it"
        target = self.read(kind, action_id)
        self.label = f'walk-{self.login}-{n:02d}-{target}'
        self.shots = set()
        try:
            self.walk_page(path, kind, target)
        except Error as error:  # a time-out: sao is stuck, or lost
            self.fail(str(error).splitlines()[0])
            self.shot('failure')
            self.check()
            self.restart()

    def walk_page(self, path, kind, target):
        for parent, child in zip(path, path[1:]):
            if not self.page.evaluate(MENU_SHOWN, child['id']):
                self.menu_row(parent).query_selector('.expander').click()
        tabs = self.state()['tabs']
        self.menu_row(path[-1]).query_selector('div[title]').click()
        if not self.settle():
            return self.recover()
        try:
            self.page.wait_for_function(OPENED, arg=tabs, timeout=2000)
        except TimeoutError:
            if kind != 'ir.action.wizard':  # a wizard may end at once
                self.fail('the page does not show')
                return self.recover()
        self.settle()  # its first search starts once its view shows
        state = self.state()
        if state['wizard']:
            self.wizard(target)
        elif state['tabs'] > tabs:
            self.views()
            if self.state()['tabs']:
                self.close_tab()
        self.check()

    def read(self, kind, action_id):
        field = {'ir.action.act_window': 'res_model',
            'ir.action.wizard': 'wiz_name'}.get(kind)
        if not field:
            return kind
        action, = self.client(f'model.{kind}.read', [action_id], [field])
        return action[field]

    def menu_row(self, menu):
        self.page.wait_for_function(MENU_ROW, arg=menu['id'])
        return self.page.evaluate_handle(MENU_ROW, menu['id']).as_element()

    def views(self):
        """Every view of the tab: a record opened from each list and
        calendar, the switch button otherwise"""
        state = self.state()
        if 'views' not in state:
            self.shot('page')
            if state['screen']:
                self.fail('no view shows')
            return self.check()
        seen, opened = set(), set()
        for _ in range(3 * state['views'] + 2):
            seen.add(state['view'])
            if state['type'] == 'tree' and state['records']:
                # sao draws the rows after the data comes
                self.tab.locator('.treeview tbody tr').first.wait_for()
            self.shot(state['type'])
            self.check()
            if self.fit and state['overflow'] > 0:  # 1366 pixels wide
                self.fail(f"the list is {state['overflow']} pixels too wide")
            if len(seen) == state['views']:
                return
            before, view, cell = state, state['view'], None
            if (view not in opened and state['type'] == 'tree'
                    and state['records']):
                opened.add(view)
                if not state['editable']:
                    cell = self.page.evaluate_handle(PLAIN_CELL).as_element()
                if cell:
                    doing, expect = 'double-click on a row', 'form'
                    cell.dblclick()
                else:  # editable, or links only: select a row, switch
                    doing, expect = 'switch on a selected row', state['next']
                    self.tab.locator(
                        'tbody td.selection-state input').first.check()
                    self.tab.locator('button#switch_').click()
            elif (view not in opened and state['type'] == 'calendar'
                    and self.tab.locator('.fc-event').count()):
                opened.add(view)
                doing, expect = 'click on an event', 'form'
                self.tab.locator('.fc-event').first.click()
            elif state['can_switch']:
                doing, expect = 'switch', None
                self.tab.locator('button#switch_').click()
            else:
                if state['records']:
                    self.fail(f"stuck in the {state['type']} view: "
                        f"{len(seen)} of {state['views']} views seen")
                # else no record to open: the views after the form wait
                return
            if not self.settle():
                return self.recover()
            state = self.state()
            if (state['tabs'], state['tab']) != (
                    before['tabs'], before['tab']):
                self.fail(f'{doing} opened another tab')
                return self.recover()
            if expect and state.get('type') != expect:
                self.fail(f"{doing} showed the {state.get('type')} view")
            elif state.get('view') == view:
                self.fail(f"{doing} stayed in the {before['type']} view")
                return
        self.fail(f"{len(seen)} of {state['views']} views seen")

    def close_tab(self):
        tabs = self.state()['tabs']
        self.page.locator('#tablist li.active button.close').click()
        try:
            self.page.wait_for_function(
                f'() => Sao.Tab.tabs.length < {tabs}', timeout=BOUND * 1000)
        except TimeoutError:
            self.fail('the tab does not close')
            self.recover()

    def recover(self):
        "Close the tabs and dialogs a failure left"
        self.check()
        # (Sao.Tab.tabs.close() would close the menu too, as to log out)
        self.page.evaluate('() => [...Sao.Tab.tabs].map(t => t.close())')
        self.page.keyboard.press('Escape')
        self.watch.settle(BOUND)
        self.watch.problems()

    def wizard(self, name):
        dialog = self.page.locator('.wizard-dialog').filter(visible=True)
        self.shot('wizard')
        self.check()
        if name == 'zl.booking.book' and self.login == DEMO.WINDOW_CLERK:
            return self.book(dialog)
        end = dialog.locator('.modal-footer .btn-link')  # the end state's
        if end.count():
            end.first.click()
        else:
            dialog.press('Escape')
        if self.settle() and dialog.count():
            self.fail('the wizard does not close')
            self.recover()

    def book(self, dialog):
        """代客预约 to its end: a visitor on the morning session a week
        ahead; the booking's form opens and shows it"""
        contact = f'巡检{self.login}'
        day = (dt.date.today() + dt.timedelta(days=7)).isoformat()
        self.pick(dialog, 'ticket')
        self.pick(dialog, 'slot', day, "上午场")
        dialog.locator('input[name="contact_name"]').fill(contact)
        dialog.locator('button[title="新建"]').first.click()
        row = dialog.locator('tbody tr').first
        row.locator('input[name="name"]').fill(contact)
        row.locator('input[name="id_number"]').fill(resident_id(4242))
        self.shot('wizard-filled')
        dialog.locator('.modal-footer .btn-primary').click()
        if not self.settle():
            return self.recover()
        self.check()
        found = self.client('model.zl.booking.search_read',
            [('contact_name', '=', contact)], 0, None, None, ['number'])
        if len(found) != 1:
            self.fail(f'{len(found)} bookings made')
            return self.recover()
        booking, state = found[0], self.state()
        shown = self.tab.locator('input[name="number"]')
        if (dialog.count() or state.get('type') != 'form'
                or state['record'] != booking['id']
                or shown.input_value() != booking['number']):
            self.fail(f"booked {booking['number']}, but sao shows {state}")
            return self.recover()
        self.shot('booked')
        self.close_tab()

    def pick(self, dialog, field, *texts):
        "Choose field's value in its search dialog: the row with texts"
        dialog.locator(f'input[name="{field}"]').locator(
            'xpath=..').locator('.icon-secondary button').click()
        search = self.page.locator('.modal.in').last
        search.locator('tbody tr').first.wait_for()
        row = search.locator('tbody tr')
        for text in texts:
            row = row.filter(has_text=text)
        row.first.locator('td').nth(1).click()  # its selection button
        search.locator('.modal-footer .btn-primary').click()
        self.page.wait_for_function(
            '(e) => e.value', arg=dialog.locator(
                f'input[name="{field}"]').element_handle())
