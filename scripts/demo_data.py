#!/usr/bin/env python3
"""Load the manual's example museum into a database (README command 1).

    python scripts/demo_data.py -c trytond.conf -d demo

Roles, a user group with full data permission for sellers, a 个人预约票
(validity -1, usable count 1, stock -1, per-user limit 1), a hidden 团体票
and a WeChat mini-program seller authorised for both.
"""
import argparse
import io
from decimal import Decimal

from PIL import Image, ImageDraw
from proteus import Model, config

DEMO_USERS = [
    # login, password, name, role code
    ('manager', 'Manager-2026', "平台管理员", 'R01'),
    ('ticketmgr', 'Ticket-Mgr-2026', "票务管理员", 'R02'),
    ('seller01', 'Seller-01-2026', "窗口售票员", 'R04'),
    ('auditor', 'Auditor-2026', "审计员", 'R06'),
    ]


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


def main(database, config_file):
    config.set_trytond(database, config_file=config_file)
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

    staff = UserGroup(code='G01', name="场馆员工", remark="售票与检票人员")
    staff.save()
    permission = DataPermission(name="平台管理员", all_data=True)
    permission.user_groups.append(UserGroup(staff.id))
    permission.save()

    for login, password, name, role_code in DEMO_USERS:
        role, = Role.find([('code', '=', role_code)])
        user = User(login=login, name=name, password=password)
        user.language = zh_cn
        user.roles.new(role=role)
        user.zl_user_groups.append(UserGroup(staff.id))
        user.save()

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
    window.users.extend(User.find([('login', '=', 'seller01')]))
    window.save()

    agency = Distributor(code='D001', name="示例旅行社", contact="李经理")
    agency.save()
    Seller(
        name="示例旅行社分销", kind='distributor', distributor=agency).save()

    print("Demo logins (password): admin (see above), " + ", ".join(
            '%s (%s)' % (login, password)
            for login, password, _, _ in DEMO_USERS))


if __name__ == '__main__':
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('-c', '--config', dest='config_file')
    parser.add_argument('-d', '--database', required=True)
    args = parser.parse_args()
    main(args.database, args.config_file)
