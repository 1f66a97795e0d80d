# This file is part of zhonglian-ticketing. See README.md for the licence.
"""The visitor API (doc/visitor-api.md, `/{db}/zl_mp/v1/openapi.json`).

Thin routes: parse, establish who calls and through what, call the
engine or the model, answer.  The plumbing is api.py."""
from trytond.pool import Pool
from trytond.protocols.wrappers import Response

from . import auth, bookings, catalogue
from .api import answer, bearer, body, error, route
from .catalogue import image_response


def base(request, database_name):
    "The API's own address, for the URLs of pictures"
    return '%s%s/zl_mp/v1' % (request.script_root, '/' + database_name)


def _id(value):
    "A path id: the converter gives a string, so that 'x' is a 404"
    if not value.isdigit() or len(value) > 12 or int(value) <= 0:
        raise error('not_found', 404)
    return int(value)


# --- Login ---------------------------------------------------------------

@route('/auth/wechat', 'POST')
def login_mp(request, database_name, visitor):
    return auth.login(
        'mp', body(request).get('code'), request.remote_addr)


@route('/auth/wechat-oa', 'POST')
def login_oa(request, database_name, visitor):
    return auth.login(
        'oa', body(request).get('code'), request.remote_addr)


@route('/auth/logout', 'POST', visitor=True)
def logout(request, database_name, visitor):
    pool = Pool()
    WebUser = pool.get('web.user')
    WebUser.close_session(bearer(request))
    return {'ok': True}


# --- Browsing (public) ---------------------------------------------------

@route('/home')
def home(request, database_name, visitor):
    pool = Pool()
    Homepage = pool.get('zl.mp.homepage')
    page = Homepage.published()
    if page is None:
        raise error('home_not_published', 404)
    url = base(request, database_name)
    return page.to_dict(
        lambda banner: '%s/home/banners/%s' % (url, banner.id))


@route('/home/banners/<banner_id>')
def banner_image(request, database_name, visitor, banner_id):
    pool = Pool()
    Banner = pool.get('zl.mp.homepage.banner')
    image = Banner.public_image(_id(banner_id))
    if not image:
        raise error('not_found', 404)
    return image_response(image[0], request)


@route('/tickets')
def tickets(request, database_name, visitor):
    url = base(request, database_name)
    return catalogue.cached(('tickets', url), catalogue.ticket_list, url)


def _promotion(request):
    "The ticket a promotion scene in the query opens, if any"
    pool = Pool()
    Promo = pool.get('zl.mp.promo')
    scene = request.args.get('promo')
    if not scene:
        return None
    return Promo.resolve(scene).ticket.id


@route('/tickets/<ticket_id>')
def ticket(request, database_name, visitor, ticket_id):
    ticket = catalogue.visible_ticket(_id(ticket_id), _promotion(request))
    return catalogue.ticket_detail(ticket, base(request, database_name))


@route('/tickets/<ticket_id>/slots')
def ticket_slots(request, database_name, visitor, ticket_id):
    ticket_id, promotion = _id(ticket_id), _promotion(request)
    start = catalogue.parse_date(request.args.get('from'), None)
    end = catalogue.parse_date(request.args.get('to'), None)

    def answer():
        ticket = catalogue.visible_ticket(ticket_id, promotion)
        return catalogue.slots(ticket, start, end)
    return catalogue.cached(
        ('slots', ticket_id, promotion, start, end), answer)


@route('/tickets/<ticket_id>/poster')
def ticket_poster(request, database_name, visitor, ticket_id):
    pool = Pool()
    Ticket = pool.get('zl.ticket')
    tickets = Ticket.search([('id', '=', _id(ticket_id))])
    if not tickets or not tickets[0].poster:
        raise error('not_found', 404)
    return image_response(tickets[0].poster, request)


@route('/tickets/<ticket_id>/images/<image_id>')
def ticket_image(request, database_name, visitor, ticket_id, image_id):
    pool = Pool()
    Image = pool.get('zl.ticket.image')
    images = Image.search([
            ('id', '=', _id(image_id)), ('ticket', '=', _id(ticket_id))])
    if not images:
        raise error('not_found', 404)
    return image_response(images[0].image, request)


@route('/promo/<scene>')
def promo(request, database_name, visitor, scene):
    pool = Pool()
    Promo = pool.get('zl.mp.promo')
    return Promo.resolve(scene).to_dict()


# --- The visitor's own ---------------------------------------------------

@route('/companions', visitor=True)
def companions(request, database_name, visitor):
    pool = Pool()
    Companion = pool.get('zl.mp.companion')
    return {'companions': [c.to_dict() for c in Companion.search([
                    ('web_user', '=', visitor)])]}


@route('/companions', 'POST', visitor=True)
def add_companion(request, database_name, visitor):
    pool = Pool()
    Companion = pool.get('zl.mp.companion')
    return Companion.add(visitor, body(request)).to_dict(), 201


@route('/companions/<companion_id>', 'DELETE', visitor=True)
def remove_companion(request, database_name, visitor, companion_id):
    pool = Pool()
    Companion = pool.get('zl.mp.companion')
    companions = Companion.search([
            ('id', '=', _id(companion_id)), ('web_user', '=', visitor)])
    if not companions:
        raise error('companion_not_found', 404)
    Companion.delete(companions)
    return Response(status=204)


@route('/bookings', 'POST', visitor=True, read_committed_=True)
def book(request, database_name, visitor):
    booking, new = bookings.book(body(request), visitor)
    return booking, 201 if new else 200


@route('/bookings', visitor=True)
def my_bookings(request, database_name, visitor):
    return bookings.my_bookings(visitor)


@route('/bookings/<number>', visitor=True)
def booking(request, database_name, visitor, number):
    return bookings.view(bookings.own_booking(number, visitor))


@route('/bookings/<number>/cancel', 'POST', visitor=True,
    read_committed_=True)
def cancel(request, database_name, visitor, number):
    return bookings.cancel(number, visitor)


@route('/passes/<code>/qr.png', visitor=True)
def pass_qr(request, database_name, visitor, code):
    pass_ = bookings.own_pass(code, visitor)
    return Response(pass_.qr_png(), content_type='image/png', headers={
            'Cache-Control': 'private, max-age=300'})


# --- The contract ----------------------------------------------------------

@route('/openapi.json')
def openapi(request, database_name, visitor):
    from .openapi import document
    return answer(document(base(request, database_name)))


def not_found(request, database_name, visitor, rest):
    raise error('not_found', 404)


for _method in ['GET', 'POST', 'DELETE']:
    route('/<path:rest>', _method)(not_found)
