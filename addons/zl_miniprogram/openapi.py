# This file is part of zhonglian-ticketing. See README.md for the licence.
"""The visitor API's OpenAPI 3 document: the living contract, served at
`/{db}/zl_mp/v1/openapi.json`, fuzzed by schemathesis against the running
server (tests/test_visitor_schema.py), and checked to name every route
registered in api.ROUTES."""


def _ref(name):
    return {'$ref': '#/components/schemas/%s' % name}


def _null(schema):
    return dict(schema, nullable=True)


STR = {'type': 'string'}
INT = {'type': 'integer'}
BOOL = {'type': 'boolean'}
DATE = {'type': 'string', 'format': 'date'}
DATETIME = {'type': 'string', 'format': 'date-time'}
# Money as a decimal string ("80.00"): no float rounding for a price.
MONEY = {'type': 'string', 'pattern': r'^-?[0-9]+(\.[0-9]+)?$'}


def _object(properties, required=None):
    return {
        'type': 'object',
        'properties': properties,
        'required': list(properties) if required is None else required,
        }


SCHEMAS = {
    'Error': _object({'error': _object({
                    'code': STR, 'message': STR,
                    }, required=['code', 'message'])}),
    'Session': _object({'token': STR, 'expires_at': DATETIME}),
    'LoginCode': _object({'code': dict(STR, minLength=1, maxLength=128)}),
    'Home': _object({
            'template': STR,
            'site_name': _null(STR),
            'theme_color': _null(STR),
            'banners': {'type': 'array', 'items': _object({
                        'image_url': STR,
                        'caption': _null(STR),
                        'link': _object({
                                'kind': STR,
                                'ticket_id': _null(INT),
                                'page': _null(STR),
                                }),
                        })},
            'notices': {'type': 'array', 'items': _object({
                        'title': STR, 'content': _null(STR)})},
            }),
    'TicketSummary': _object({
            'id': INT, 'name': STR,
            'kind': {'type': 'string', 'enum': ['individual', 'group']},
            'category': _null(STR), 'price': MONEY,
            'original_price': MONEY, 'carousel': BOOL,
            'poster_url': _null(STR),
            }),
    'TicketList': _object({'tickets': {
                'type': 'array', 'items': _ref('TicketSummary')}}),
    'TicketDetail': {'allOf': [_ref('TicketSummary'), _object({
                    'refundable': BOOL, 'real_name': BOOL,
                    'per_user_limit': INT, 'group_min': _null(INT),
                    'group_max': _null(INT), 'usable_count': INT,
                    'album': {'type': 'array', 'items': _object({
                                'image_url': STR, 'caption': _null(STR)})},
                    'intro_html': STR, 'phone': _null(STR),
                    'address': _null(STR),
                    # The per-booking rules (the site's or the ticket's
                    # own); null for a group ticket, null limits: none.
                    'visit_rules': _null(_object({
                                'visitors_max': _null(INT),
                                'minors_max': _null(INT),
                                'minors_need_adult': BOOL,
                                'minor_age': INT,
                                })),
                    })]},
    'Slot': _object({
            'slot_id': INT, 'date': DATE, 'session': STR,
            'checkin_start': DATETIME, 'checkin_end': DATETIME,
            'capacity': INT, 'available': INT,
            'state': {'type': 'string', 'enum': [
                    'open', 'not_yet_open', 'sold_out', 'closed']},
            'opens_at': _null(DATETIME),
            }),
    'SlotList': _object({'ticket_id': INT, 'slots': {
                'type': 'array', 'items': _ref('Slot')}}),
    'Promo': _object({
            'scene': STR, 'ticket_id': INT, 'ticket_name': STR,
            'valid_from': _null(DATETIME), 'valid_until': _null(DATETIME),
            }),
    'VisitorInput': _object({
            'name': dict(STR, maxLength=128),
            'id_type': {'type': 'string', 'enum': [
                    'resident_id', 'passport', 'hk_macau_permit',
                    'taiwan_permit']},
            'id_number': dict(STR, maxLength=128),
            'phone': _null(dict(STR, maxLength=128)),
            'birth_date': _null({'type': 'string', 'format': 'date',
                    'description': 'documents other than resident_id '
                    '(the visit policy\'s minors rules)'}),
            }, required=['name', 'id_number']),
    'Companion': _object({
            'id': INT, 'name': STR, 'id_type': STR,
            'id_number': {'type': 'string', 'description': 'masked'},
            'phone': _null(STR),
            }),
    'CompanionList': _object({'companions': {
                'type': 'array', 'items': _ref('Companion')}}),
    'BookingRequest': _object({
            'ticket_id': INT, 'slot_id': INT,
            'visitors': {'type': 'array', 'maxItems': 100, 'items': {
                    'oneOf': [_ref('VisitorInput'), _object({
                                'companion_id': INT})]}},
            'contact': _object({
                    'name': _null(dict(STR, maxLength=128)),
                    'phone': _null(dict(STR, maxLength=128)),
                    }, required=[]),
            'group': _object({
                    'name': dict(STR, maxLength=128),
                    'leader': dict(STR, maxLength=128),
                    'size': INT,
                    }),
            'promo': dict(STR, maxLength=32),
            'idempotency_key': dict(STR, minLength=8, maxLength=128),
            }, required=['ticket_id', 'slot_id', 'idempotency_key']),
    'Pass': _object({
            'code': STR, 'qr_url': STR, 'admits': INT, 'uses_left': INT,
            'state': STR,
            }),
    'Booking': _object({
            'number': STR,
            'state': {'type': 'string', 'enum': [
                    'confirmed', 'used', 'cancelled', 'refunded', 'expired',
                    'no_show']},
            'ticket': _object({'id': INT, 'name': STR}),
            'slot': _object({
                    'id': INT, 'date': DATE, 'session': STR,
                    'checkin_start': DATETIME, 'checkin_end': DATETIME}),
            'quantity': INT,
            'visitors': {'type': 'array', 'items': _object({
                        'name': STR, 'id_type': STR, 'id_number': STR})},
            'group': _null(_object({
                        'name': _null(STR), 'leader': _null(STR),
                        'size': INT})),
            'passes': {'type': 'array', 'items': _ref('Pass')},
            'refundable': BOOL,
            'cancellable': BOOL,
            'cancel_until': DATETIME,
            'cancel_now': _null({'type': 'string',
                    'enum': ['free', 'strike']}),
            'cancel_now_until': _null(DATETIME),
            'cancel_preview': STR,
            'created_at': DATETIME,
            }, required=[
                'number', 'state', 'ticket', 'slot', 'quantity', 'visitors',
                'passes', 'refundable']),
    'BookingList': _object({'bookings': {
                'type': 'array', 'items': _ref('Booking')}}),
    'Ok': _object({'ok': BOOL}),
    }

# Every code a route may answer, with its status (doc/visitor-api.md).
COMMON = {
    '400': ['invalid_request'],
    '404': ['not_found'],
    '413': ['payload_too_large'],
    '429': ['rate_limited'],
    '503': ['busy', 'not_configured'],
    }
VISITOR = {'401': ['unauthorized']}
BOOKING_CODES = {
    '400': ['invalid_request', 'invalid_id_number', 'invalid_phone',
        'contact_required', 'group_size', 'visitors_limit', 'minors_limit',
        'guardian_required', 'birth_date_required'],
    '404': ['ticket_not_available', 'promo_not_found', 'not_found'],
    '409': ['sold_out', 'not_open', 'closed', 'limit_exceeded',
        'account_limit', 'account_bookings_limit', 'id_limit',
        'id_window_limit', 'duplicate_visitor', 'idempotency_conflict',
        'account_restricted', 'id_restricted'],
    '410': ['promo_expired'],
    }
CANCEL_CODES = {
    '404': ['booking_not_found', 'not_found'],
    '409': ['not_refundable', 'cancel_too_late', 'cancel_closed',
        'not_cancellable'],
    }
LOGIN_CODES = {
    '400': ['invalid_request', 'invalid_code'],
    '403': ['account_disabled'],
    '429': ['rate_limited'],
    '502': ['wechat_error'],
    '503': ['wechat_unavailable', 'wechat_not_configured', 'busy'],
    }
ID = {'type': 'string', 'pattern': '^[0-9]+$'}


def _operation(summary, ok, schema=None, codes=None, visitor=False,
        body=None, params=None, content='application/json'):
    codes = _merge(COMMON, codes or {}, VISITOR if visitor else {})
    responses = {}
    if schema is None:
        responses[ok] = {'description': summary}
    else:
        responses[ok] = {
            'description': summary,
            'content': {content: {'schema': schema}}}
    for status, names in sorted(codes.items()):
        responses[status] = {
            'description': ', '.join(sorted(set(names))),
            'content': {'application/json': {'schema': _ref('Error')}},
            }
    operation = {'summary': summary, 'responses': responses}
    if visitor:
        operation['security'] = [{'visitor': []}]
    else:
        operation['security'] = []
    if body:
        operation['requestBody'] = {
            'required': True,
            'content': {'application/json': {'schema': _ref(body)}}}
    if params:
        operation['parameters'] = params
    return operation


def _merge(*tables):
    result = {}
    for table in tables:
        for status, names in table.items():
            result.setdefault(status, []).extend(names)
    return result


def _path(name, schema=ID):
    return {'name': name, 'in': 'path', 'required': True, 'schema': schema}


def _query(name, schema):
    return {'name': name, 'in': 'query', 'required': False, 'schema': schema}


PNG = {'type': 'string', 'format': 'binary'}
PROMO_QUERY = _query('promo', dict(STR, maxLength=32))


def paths():
    return {
        '/auth/wechat': {'post': _operation(
                "Log in with a mini-program login code", '200',
                _ref('Session'), LOGIN_CODES, body='LoginCode')},
        '/auth/wechat-oa': {'post': _operation(
                "Log in with an Official Account OAuth code (H5 page)",
                '200', _ref('Session'), LOGIN_CODES, body='LoginCode')},
        '/auth/logout': {'post': _operation(
                "End the visitor session", '200', _ref('Ok'),
                visitor=True)},
        '/home': {'get': _operation(
                "The published home page", '200', _ref('Home'),
                {'404': ['home_not_published']})},
        '/home/banners/{banner_id}': {'get': _operation(
                "A banner picture of the published home page", '200', PNG,
                content='image/*', params=[_path('banner_id')])},
        '/tickets': {'get': _operation(
                "Tickets on sale in the mini-program", '200',
                _ref('TicketList'))},
        '/tickets/{ticket_id}': {'get': _operation(
                "A ticket", '200', _ref('TicketDetail'),
                {'404': ['ticket_not_found', 'promo_not_found'],
                    '410': ['promo_expired']},
                params=[_path('ticket_id'), PROMO_QUERY])},
        '/tickets/{ticket_id}/slots': {'get': _operation(
                "A ticket's sessions by date", '200', _ref('SlotList'),
                {'404': ['ticket_not_found', 'promo_not_found'],
                    '410': ['promo_expired']},
                params=[_path('ticket_id'), PROMO_QUERY,
                    _query('from', DATE), _query('to', DATE)])},
        '/tickets/{ticket_id}/poster': {'get': _operation(
                "A ticket's poster", '200', PNG, content='image/*',
                params=[_path('ticket_id')])},
        '/tickets/{ticket_id}/images/{image_id}': {'get': _operation(
                "A picture of a ticket's album", '200', PNG,
                content='image/*',
                params=[_path('ticket_id'), _path('image_id')])},
        '/promo/{scene}': {'get': _operation(
                "Resolve a group promotion code", '200', _ref('Promo'),
                {'404': ['promo_not_found'], '410': ['promo_expired']},
                params=[_path('scene', dict(STR, maxLength=32))])},
        '/companions': {
            'get': _operation(
                "The visitor's saved companions", '200',
                _ref('CompanionList'), visitor=True),
            'post': _operation(
                "Save a companion", '201', _ref('Companion'),
                {'400': ['invalid_id_number', 'invalid_phone'],
                    '409': ['duplicate_companion', 'companion_limit']},
                visitor=True, body='VisitorInput'),
            },
        '/companions/{companion_id}': {'delete': _operation(
                "Remove a companion", '204', None,
                {'404': ['companion_not_found']}, visitor=True,
                params=[_path('companion_id')])},
        '/bookings': {
            'get': _operation(
                "The visitor's bookings, newest first", '200',
                _ref('BookingList'), visitor=True),
            'post': dict(_operation(
                    "Book (the same idempotency key answers the same "
                    "booking with 200)", '201', _ref('Booking'),
                    BOOKING_CODES, visitor=True, body='BookingRequest'),
                ),
            },
        '/bookings/{number}': {'get': _operation(
                "One of the visitor's bookings", '200', _ref('Booking'),
                {'404': ['booking_not_found']}, visitor=True,
                params=[_path('number', dict(STR, maxLength=64))])},
        '/bookings/{number}/cancel': {'post': _operation(
                "Cancel a booking (refunded when the ticket allows)", '200',
                _ref('Booking'), CANCEL_CODES, visitor=True,
                params=[_path('number', dict(STR, maxLength=64))])},
        '/passes/{code}/qr.png': {'get': _operation(
                "The QR code of one of the visitor's e-tickets", '200', PNG,
                {'404': ['pass_not_found']}, visitor=True,
                content='image/png',
                params=[_path('code', dict(STR, maxLength=256))])},
        '/openapi.json': {'get': _operation(
                "This document", '200', {'type': 'object'})},
        }


def document(server):
    doc = {
        'openapi': '3.0.3',
        'info': {
            'title': "众链票务 visitor API",
            'version': '1.0.0',
            'description': (
                "The WeChat mini-program's and the H5 page's API. "
                "Errors: {\"error\": {\"code\", \"message\"}}; see "
                "doc/visitor-api.md for every code."),
            },
        'servers': [{'url': server}],
        'paths': paths(),
        'components': {
            'schemas': SCHEMAS,
            'securitySchemes': {'visitor': {
                    'type': 'http', 'scheme': 'bearer',
                    'description': "token of POST /auth/wechat"}},
            },
        }
    # A booking answered again for its idempotency key is a 200.
    doc['paths']['/bookings']['post']['responses']['200'] = dict(
        doc['paths']['/bookings']['post']['responses']['201'])
    return doc
