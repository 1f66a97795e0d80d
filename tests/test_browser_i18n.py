"""Chinese for everyone, the product's name, rich text without the internet.

On a database made by trytond-admin with the site's language zh_CN
([database] language, as in trytond.conf):

- a user created with no language, as 用户管理 → 新建 does over JSON-RPC,
  works in Chinese: preferences and menus;
- in headless Chromium with an English browser, sao's login dialog and the
  window name the product and speak Chinese before anyone logs in
  (web/custom.js), and a wrong password says so;
- a ticket's 介绍 opens TinyMCE served by our own installation (any
  request to another host fails the test); the text typed is saved.

Screenshots: test-artifacts/i18n-*.png."""
import time
from urllib.parse import urlsplit

import pytest
from test_translations import english
from zl_testing import (
    ADMIN_PASSWORD,
    create_database,
    login_session,
    open_menu,
    rpc,
    run_proteus,
    shot,
    write_config,
)

TITLE = '众链票务 门票预约管理系统'
LOGIN, PASSWORD = 'ticketmgr', 'Ticket-Mgr-2026'

# As 用户管理 → 新建: a name, an account, a password and a role; no
# language.  The ticket whose 介绍 the browser edits.
SETUP = f'''
from trytond.pool import Pool
from trytond.transaction import Transaction
with Transaction().start(config.database_name, 0, readonly=True):
    role_id = Pool().get('ir.model.data').get_id(
        'zl_ticket_core', 'role_ticket_manager')
User = Model.get('res.user')
Role = Model.get('res.role')
user = User(login={LOGIN!r}, name='票务管理员', password={PASSWORD!r})
user.roles.new(role=Role(role_id))
user.save()
Ticket = Model.get('zl.ticket')
Ticket(name='介绍测试票', code='I18N-1', intro='<p>旧的介绍</p>').save()
'''


@pytest.fixture(scope='module')
def zh_site(tmp_path_factory):
    "(config, database) of a site whose language is zh_CN"
    folder = tmp_path_factory.mktemp('zh')
    config = write_config(folder / 'trytond.conf', 'sqlite://', folder)
    text = config.read_text().replace(
        'list = False\n', 'list = False\nlanguage = zh_CN\n', 1)
    assert 'language = zh_CN' in text
    config.write_text(text)
    database = 'zh'
    (folder / f'{database}.sqlite').touch()
    create_database(config, database)
    run_proteus(config, database, SETUP)
    return config, database


def test_new_user_works_in_chinese(zh_site, server):
    config, database = zh_site
    url = server(config, database)
    admin = login_session(url, database, 'admin', ADMIN_PASSWORD)
    roles = rpc(url, 'model.res.role.search_read',
        [[('code', '=', 'R04')], 0, None, None, ['id'], {}],
        database=database, session=admin)
    rpc(url, 'model.res.user.create', [[{
                    'login': 'clerk', 'name': '新售票员',
                    'password': 'Clerk-New-2026',
                    'roles': [('create', [{'role': roles[0]['id']}])],
                    }], {}],
        database=database, session=admin)

    clerk = login_session(url, database, 'clerk', 'Clerk-New-2026')
    preferences = rpc(url, 'model.res.user.get_preferences', [True, {}],
        database=database, session=clerk)
    assert preferences['language'] == 'zh_CN'
    menus = rpc(url, 'model.ir.ui.menu.search_read',
        [[('parent', '=', None)], 0, None, None, ['name'], preferences],
        database=database, session=clerk)
    names = [m['name'] for m in menus]
    assert '门票预约' in names, names
    assert not [n for n in names if english(n)], names

    # The manual's words on the user form: 账号, 姓名, and two kinds of
    # groups told apart
    labels = rpc(url, 'model.res.user.fields_get',
        [['login', 'name', 'groups', 'zl_user_groups'], preferences],
        database=database, session=admin)
    assert {n: f['string'] for n, f in labels.items()} == {
        'login': '账号', 'name': '姓名', 'groups': '权限组',
        'zl_user_groups': '用户组'}
    visitor = rpc(url, 'model.zl.booking.visitor.fields_get',
        [['name'], preferences], database=database, session=admin)
    assert visitor['name']['string'] == '姓名'
    # 日志查看 names the model of a log in Chinese, not "zl.ticket"
    models = dict(rpc(url, 'model.ir.model.log.get_models', [preferences],
            database=database, session=admin))
    assert models['zl.ticket'] == '门票'
    assert models['res.user'] == '用户'


@pytest.mark.browser
def test_login_and_intro_editor_in_chinese(zh_site, server, page):
    config, database = zh_site
    url = server(config, database)
    external = []

    def local_only(route):
        parts = urlsplit(route.request.url)
        if parts.scheme in {'http', 'https'} and parts.hostname not in {
                '127.0.0.1', 'localhost'}:
            external.append(route.request.url)
            route.abort()
        else:
            route.continue_()
    page.context.route('**/*', local_only)
    try:
        login_with_a_wrong_password_first(page, url, database)
        edit_intro(page, url, database)
    except Exception:
        shot(page, 'i18n-failure')
        raise
    assert not external, external


def login_with_a_wrong_password_first(page, url, database):
    page.goto(url + '/')
    page.locator('#database:visible').fill(database)
    dialog = page.locator('.modal.in')
    dialog.locator('.modal-title', has_text=TITLE).wait_for()
    assert page.title() == TITLE
    text = dialog.inner_text()
    # the manual's word for the login
    assert '账号' in text and not english(text), text
    page.fill('input#login', LOGIN)
    shot(page, 'i18n-1-login')
    page.click('.modal button[type=submit]')

    password = page.locator('.modal.in input[type=password]')
    password.fill('Wrong-Password-1')
    text = page.locator(
        '.modal.in', has=page.locator('input[type=password]')).inner_text()
    assert f'{LOGIN} 的密码' in text and '忘记密码' in text, text
    assert not english(text.replace(LOGIN, '')), text
    shot(page, 'i18n-2-password')
    page.keyboard.press('Enter')

    # sao asks again; the server says why, in Chinese
    retry = page.locator('.modal.in', has_text='账号或密码错误')
    retry.wait_for()
    shot(page, 'i18n-3-wrong-password')
    # After a failure the account waits 1 s before the next try.
    time.sleep(1.5)
    retry.locator('input[type=password]').fill(PASSWORD)
    page.keyboard.press('Enter')
    page.locator('#menu div[title="票务管理"]').wait_for()
    assert page.title() == TITLE
    assert page.locator('#title').inner_text() == TITLE
    shot(page, 'i18n-4-menu')


def edit_intro(page, url, database):
    open_menu(page, '票务管理', '票据管理')
    tab = page.locator('#tabcontent .tab-pane.active')
    tab.locator('td', has_text='I18N-1').dblclick()
    tab.get_by_role('tab', name='图文介绍').click()
    link = tab.locator('.form-html a', has_text='介绍')
    shot(page, 'i18n-5-ticket-intro')
    with page.context.expect_page() as opened:
        link.click()
    editor = opened.value
    editor.set_viewport_size({'width': 1280, 'height': 800})
    editor.locator('.tox-tinymce').wait_for()
    body = editor.frame_locator('iframe.tox-edit-area__iframe').locator(
        'body')
    assert body.inner_text() == '旧的介绍'
    # TinyMCE speaks Chinese too (its zh_CN pack, served with it)
    editor.locator('.tox-mbtn', has_text='文件').wait_for()
    # Tryton's own save button (its page gives it no label)
    save = editor.locator('.tox-tbtn[data-mce-name="save"]')
    body.click()
    editor.keyboard.press('Control+End')
    editor.keyboard.press('Enter')
    editor.keyboard.insert_text('离线编辑的介绍')
    shot(editor, 'i18n-6-intro-editor')
    with editor.expect_navigation():
        save.click()
    editor.locator('.tox-tinymce').wait_for()
    shot(editor, 'i18n-7-intro-saved')

    manager = login_session(url, database, LOGIN, PASSWORD)
    ticket, = rpc(url, 'model.zl.ticket.search_read',
        [[('code', '=', 'I18N-1')], 0, None, None, ['intro'], {}],
        database=database, session=manager)
    assert '旧的介绍' in ticket['intro'], ticket
    assert '离线编辑的介绍' in ticket['intro'], ticket
