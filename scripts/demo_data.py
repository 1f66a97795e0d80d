#!/usr/bin/env python3
"""Load the manual's example museum into a database (README command 1).

    python scripts/demo_data.py -c trytond.conf -d demo

Roles and user groups with their data permissions, a 个人预约票 (validity
-1, usable count 1, stock -1, per-user limit 1), a hidden 团体票, a WeChat
mini-program seller authorised for both and a ticket window; then the
manual's 新建可预约时间 (book 11 days ahead, 上午场 08:00-12:00 and 下午场
13:00-16:00 for 50 visitors each, linked to the 个人预约票), and bookings
made at the window by its clerk through the booking engine, so that one
session is sold out.  The database must have every module activated.
"""
import argparse
import datetime as dt
import io
import itertools
import os
from decimal import Decimal
from zoneinfo import ZoneInfo

from PIL import Image, ImageDraw
from proteus import Model, config

from trytond.modules.zl_reservation.identity import make_resident_id

DEMO_USERS = [
    # login, password, name, role code
    ('manager', 'Manager-2026', "平台管理员", 'R01'),
    ('ticketmgr', 'Ticket-Mgr-2026', "票务管理员", 'R02'),
    ('resmgr', 'Res-Mgr-2026', "预约管理员", 'R03'),
    ('seller01', 'Seller-01-2026', "窗口售票员", 'R04'),
    ('auditor', 'Auditor-2026', "审计员", 'R06'),
    ('gateop', 'Gate-Op-2026', "一楼检票员", 'R05'),
    ]
# 检票设置: code, name, location, direction, accepted ticket codes, account
GATES = [
    ('G01', "一楼闸机入口", "一楼大厅", 'entry', ['GR001', 'TT001'],
        ('gate-g01', 'Gate-G01-2026')),
    ('G02', "一楼闸机出口", "一楼大厅", 'exit', [],
        ('gate-g02', 'Gate-G02-2026')),
    ('G03', "二楼团体入口", "二楼", 'entry', ['TT001'],
        ('gate-g03', 'Gate-G03-2026')),
    ]
# The gate operator's data scope: the first floor's gates only.
GATE_OPERATOR, OPERATOR_GATES = 'gateop', ['G01', 'G02']
# Books at 一号窗口: one of its accounts, with it in the data scope.
WINDOW_CLERK = 'seller01'
PLAN_NAME = "参观预约"
SESSIONS = [
    # name, check-in start, check-in end, capacity
    ("上午场", dt.time(8), dt.time(12), 50),
    ("下午场", dt.time(13), dt.time(16), 50),
    ]
SOLD_OUT = (1, "下午场")  # (days from today, session): filled to capacity
# (days from today, session, visitors per booking) of the other bookings
BOOKINGS = [
    (1, "上午场", 3),
    (1, "上午场", 1),
    (2, "上午场", 2),
    (3, "下午场", 4),
    (5, "上午场", 6),
    ]
MAX_PER_BOOKING = 10
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN_NAMES = ["伟", "芳", "娜", "敏", "静", "磊", "洋", "艳", "军", "杰",
    "涛", "明", "超", "霞", "平", "刚", "桂英", "建华", "晓东", "子涵"]


def picture(size, text):
    "A plain picture of the manual's size, so the demo needs no assets"
    image = Image.new('RGB', size, (176, 38, 38))
    draw = ImageDraw.Draw(image)
    draw.rectangle(
        [20, 20, size[0] - 20, size[1] - 20], outline=(255, 215, 0), width=6)
    draw.text((40, 40), text, fill=(255, 255, 255))
    data = io.BytesIO()
    image.save(data, 'PNG')
    return data.getvalue()


def load_museum():
    "系统管理, 票务管理, 售票设置: the museum of the manual's example"
    Lang = Model.get('ir.lang')
    User = Model.get('res.user')
    Role = Model.get('res.role')
    UserGroup = Model.get('zl.user.group')
    DataPermission = Model.get('zl.data.permission')
    Category = Model.get('zl.ticket.category')
    Ticket = Model.get('zl.ticket')
    Seller = Model.get('zl.seller')
    Distributor = Model.get('zl.distributor')

    zh_cn, = Lang.find([('code', '=', 'zh_CN')])

    users = {}
    for login, password, name, role_code in DEMO_USERS:
        role, = Role.find([('code', '=', role_code)])
        user = User(login=login, name=name, password=password)
        user.language = zh_cn
        user.roles.new(role=role)
        user.save()
        users[login] = user

    category = Category(name="博物馆参观")
    category.save()

    individual = Ticket(
        name="个人预约票", code='GR001', kind='individual',
        validity=-1, refundable=True, usable_count=1,
        price=Decimal(0), original_price=Decimal(0),
        stock=-1, per_user_limit=1, category=category, sequence=1,
        carousel=True, phone='010-85007000',
        address="北京市东城区景山前街4号",
        poster=picture((600, 800), "GR001"),
        intro="<p><b>入馆须知</b></p><ul><li>凭二维码或身份证入馆</li>"
        "<li>每人限约一张</li></ul>")
    individual.images.new(image=picture((600, 450), "album"), caption="展厅")
    individual.save()
    individual.click('put_on_shelf')

    group = Ticket(
        name="团体预约票", code='TT001', kind='group',
        group_min=10, group_max=50, validity=-1, usable_count=1,
        price=Decimal(0), original_price=Decimal(0), stock=-1,
        per_user_limit=0, category=category, sequence=2)
    group.save()
    group.click('put_on_shelf')

    mini_program = Seller(name="微信小程序售票", kind='wechat_mp')
    mini_program.tickets.extend([Ticket(individual.id), Ticket(group.id)])
    mini_program.hidden_tickets.append(Ticket(group.id))
    mini_program.save()

    window = Seller(name="一号窗口", kind='window')
    window.tickets.append(Ticket(individual.id))
    window.users.append(User(users[WINDOW_CLERK].id))
    window.save()

    agency = Distributor(code='D001', name="示例旅行社", contact="李经理")
    agency.save()
    Seller(
        name="示例旅行社分销", kind='distributor', distributor=agency).save()

    # 数据权限: the office sees every channel, the window clerk his window.
    office = UserGroup(code='G01', name="场馆管理", remark="管理与审计人员")
    office.users.extend(User(users[login].id)
        for login, _, _, _ in DEMO_USERS
        if login not in {WINDOW_CLERK, GATE_OPERATOR})
    office.save()
    permission = DataPermission(name="全部数据", all_data=True)
    permission.user_groups.append(UserGroup(office.id))
    permission.save()
    clerks = UserGroup(code='G02', name="一号窗口售票员", remark="窗口售票")
    clerks.users.append(User(users[WINDOW_CLERK].id))
    clerks.save()
    permission = DataPermission(name="一号窗口", all_data=False)
    permission.user_groups.append(UserGroup(clerks.id))
    permission.sellers.append(Seller(window.id))
    permission.save()
    load_gates(users[GATE_OPERATOR])
    load_mini_program(mini_program, individual, group)
    return individual, group, window


def load_mini_program(seller, individual, group):
    """小程序设置 (WeChat through the local stand-in of scripts/demo.sh),
    a published 小程序首页 and the group ticket's 微信推广码"""
    from trytond.modules.zl_miniprogram.standin import DEFAULT_APPS
    Configuration = Model.get('zl.mp.configuration')
    Homepage = Model.get('zl.mp.homepage')
    Promo = Model.get('zl.mp.promo')
    Ticket = Model.get('zl.ticket')
    configuration = Configuration(1)
    configuration.seller = seller
    # scripts/demo.sh serves the stand-in there; tests serve their own.
    configuration.wechat_base_url = os.environ.get(
        'ZL_WECHAT_URL', 'http://127.0.0.1:8921')
    # The H5 page's WeChat login goes to the stand-in's authorisation page.
    configuration.wechat_oauth_url = configuration.wechat_base_url
    # Promotion codes link to the visitor page (scripts/demo.sh's address).
    configuration.h5_url = os.environ.get('ZL_H5_URL')
    configuration.mp_appid, configuration.mp_secret = DEFAULT_APPS['mp']
    configuration.oa_appid, configuration.oa_secret = DEFAULT_APPS['oa']
    configuration.save()
    page = Homepage(name="2026 冬季首页", template='classic',
        site_name="众链博物馆", theme_color='#B02626')
    page.banners.new(image=picture((750, 400), "Winter 2026"),
        link='ticket', ticket=Ticket(individual.id), caption="冬季特展")
    page.notices.new(
        title="开放时间", content="周二至周日 9:00-17:00，周一闭馆")
    page.save()
    page.click('update_page')
    page.click('publish')
    Promo(ticket=Ticket(group.id), seller=seller, note="示例团体").save()


def load_gates(operator):
    "检票设置: the gates, their tickets and accounts; the operator's scope"
    Device = Model.get('zl.gate.device')
    Ticket = Model.get('zl.ticket')
    UserGroup = Model.get('zl.user.group')
    DataPermission = Model.get('zl.data.permission')
    User = Model.get('res.user')
    devices = {}
    for code, name, location, direction, tickets, (login, password) in GATES:
        device = Device(code=code, name=name, location=location,
            direction=direction, login=login, password=password)
        device.tickets.extend(Ticket.find([('code', 'in', tickets)]))
        device.save()
        devices[code] = device
    floor = UserGroup(code='G03', name="一楼检票", remark="一楼闸机")
    floor.users.append(User(operator.id))
    floor.save()
    permission = DataPermission(name="一楼闸机", all_data=False)
    permission.user_groups.append(UserGroup(floor.id))
    permission.devices.extend(
        Device(devices[c].id) for c in OPERATOR_GATES)
    permission.save()


def scan_at_gates(database, bookings):
    """Visitors try their e-tickets at 一楼闸机入口 now, through the gate's
    own redeem with its account: the server's clock decides (tomorrow's
    passes are refused as wrong_date), as does a forged code."""
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    codes = [p['code'] for b in bookings[:3] for p in b['passes']]
    codes.append(codes[0][:-1] + ('A' if codes[0][-1] != 'A' else 'B'))
    with Transaction().start(database, 0) as transaction:
        Device = Pool().get('zl.gate.device')
        device, = Device.search([('code', '=', 'G01')])
        user = device.user.id
    answers = []
    with Transaction().start(database, user) as transaction:
        Device = Pool().get('zl.gate.device')
        for n, code in enumerate(codes):
            answers.append(Device.redeem(
                    code, {'scan_id': 'demo-%03d' % n}))
        transaction.commit()
    return answers


def site_today():
    "Today in the site's time zone (预约设置), as the booking engine sees it"
    Configuration = Model.get('zl.reservation.configuration')
    return dt.datetime.now(ZoneInfo(Configuration(1).timezone)).date()


def load_plan(tickets, today):
    "门票预约 → 预约管理 → 新建, with the manual's values, then 启用"
    Plan = Model.get('zl.reservation.plan')
    Ticket = Model.get('zl.ticket')
    plan = Plan(name=PLAN_NAME)
    plan.start_date = today
    plan.end_date = today + dt.timedelta(weeks=8)
    plan.advance_days = 11  # 10-01 books from 09-20
    plan.release_time = dt.time(17)
    for name, start, end, capacity in SESSIONS:
        plan.sessions.new(
            name=name, checkin_start=start, checkin_end=end,
            capacity=capacity)
    # The group ticket too: tour groups book its sessions through its
    # promotion code (the H5 page's group flow).
    plan.tickets.extend(Ticket(t.id) for t in tickets)
    plan.save()
    plan.click('activate')  # generates the slots up to 11 days ahead
    return plan


def visitors():
    "Distinct visitors with valid resident IDs and mobile numbers"
    for n in itertools.count():
        yield {
            'name': SURNAMES[n % len(SURNAMES)]
            + GIVEN_NAMES[n // len(SURNAMES) % len(GIVEN_NAMES)],
            'id_type': 'resident_id',
            'id_number': make_resident_id(
                birth=(dt.date(1960, 1, 1) + dt.timedelta(days=97 * n))
                .strftime('%Y%m%d'),
                seq='%03d' % (n % 999 + 1)),
            'phone': '139%08d' % (10001 + n),
            }


def book_at_window(plan_id, ticket_id, window_id, today):
    """The window clerk books through the engine (model.zl.booking.rpc_book,
    the JSON-RPC the window uses): its rules decide, nothing is forced."""
    Booking = Model.get('zl.booking')
    Slot = Model.get('zl.reservation.slot')
    context = config.get_config().context
    people = visitors()
    count = itertools.count(1)

    def slot(days, session):
        found, = Slot.find([
                ('plan', '=', plan_id),
                ('date', '=', today + dt.timedelta(days=days)),
                ('session.name', '=', session),
                ])
        return found

    def book(slot, size):
        party = [next(people) for _ in range(size)]
        number = next(count)
        return Booking.rpc_book({
                'seller': window_id, 'ticket': ticket_id, 'slot': slot.id,
                'visitors': party,
                'contact': {'name': party[0]['name'],
                    'phone': party[0]['phone']},
                'idempotency_key': 'demo-%03d' % number,
                }, context)

    def booked(answer):
        if 'error' in answer:
            raise SystemExit('demo: booking refused: %s' % answer['error'])
        return answer['booking']

    made = []
    for days, session, size in BOOKINGS:
        made.append(booked(book(slot(days, session), size)))
    full = slot(*SOLD_OUT)
    while full.available:
        made.append(booked(book(full, min(MAX_PER_BOOKING, full.available))))
        full.reload()
    refusal = book(full, 1)
    if refusal.get('error', {}).get('code') != 'sold_out':
        raise SystemExit('demo: %s not sold out: %s' % (
                full.rec_name, refusal))
    return made, full


def main(database, config_file):
    config.set_trytond(database, config_file=config_file)
    ticket, group, window = load_museum()
    today = site_today()
    plan = load_plan([ticket, group], today)
    print("demo: %s: %s slots from %s" % (
            plan.name, len(plan.slots), today))

    # The clerk's own session: his access rights and data scope apply.
    config.set_trytond(database, user=WINDOW_CLERK, config_file=config_file)
    made, full = book_at_window(plan.id, ticket.id, window.id, today)
    print("demo: %s booked %s bookings (%s passes) at %s; %s is sold out" % (
            WINDOW_CLERK, len(made), sum(len(b['passes']) for b in made),
            window.name, full.rec_name))

    answers = scan_at_gates(database, made)
    results = sorted({a.get('reason') or a['result'] for a in answers})
    print("demo: %s scans at 一楼闸机入口: %s" % (
            len(answers), ", ".join(results)))
    print("Gate device logins (password): " + ", ".join(
            '%s (%s)' % account for *_, account in GATES))

    print("Demo logins (password): admin (see above), " + ", ".join(
            '%s (%s)' % (login, password)
            for login, password, _, _ in DEMO_USERS))


if __name__ == '__main__':
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('-c', '--config', dest='config_file')
    parser.add_argument('-d', '--database', required=True)
    args = parser.parse_args()
    main(args.database, args.config_file)
