# This file is part of zhonglian-ticketing. See README.md for the licence.
"""Plumbing of the visitor API's routes: one decorator that parses and
limits the request, establishes who calls (nobody, or the visitor of a
bearer token), runs the handler in one transaction and answers JSON —
every refusal with its documented code and status, never a traceback.

Routes stay thin (routes.py): the rules live in the booking engine and
on the models."""
import datetime as dt
import functools
import json
import logging
import time
from decimal import Decimal
from zoneinfo import ZoneInfo

from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from trytond import backend, config
from trytond.i18n import gettext
from trytond.modules.zl_reservation.engine import read_committed
from trytond.modules.zl_reservation.exceptions import BookingError
from trytond.pool import Pool
from trytond.protocols.wrappers import Response, with_pool
from trytond.transaction import Transaction
from trytond.wsgi import app

from .exceptions import ApiError
from .ratelimit import RateLimiter

logger = logging.getLogger(__name__)

BASE = '/<database_name>/zl_mp/v1'
MAX_BODY = 16 * 1024
LANGUAGES = {'zh': 'zh_CN', 'en': 'en'}

# The engine's codes and the HTTP status each answers with
# (doc/visitor-api.md); any other code is a 400.
STATUS = {
    'ticket_not_available': 404,
    'unknown': 404,
    'forbidden': 403,
    'sold_out': 409,
    'not_open': 409,
    'closed': 409,
    'limit_exceeded': 409,
    'account_limit': 409,
    'account_bookings_limit': 409,
    'id_limit': 409,
    'id_window_limit': 409,
    'duplicate_visitor': 409,
    'idempotency_conflict': 409,
    'not_refundable': 409,
    'cancel_too_late': 409,
    'cancel_closed': 409,
    'not_cancellable': 409,
    'account_restricted': 409,
    'id_restricted': 409,
    }

# Per worker process: see doc/visitor-api.md ("Rate limits").
limiter = RateLimiter()
# Every route, for the OpenAPI document and its test.
ROUTES = []


def error(code, status, message=None, **extra):
    "An ApiError with its message translated from msg_<code>"
    if message is None:
        message = gettext('zl_miniprogram.msg_api_%s' % code, **extra)
    return ApiError(code, message, status=status, **extra)


def _plain(value):
    "JSON for what json cannot encode: money as a decimal string, dates ISO"
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def to_json(data):
    return json.dumps(
        data, default=_plain, ensure_ascii=False, separators=(',', ':'))


def answer(data, status=200, headers=None):
    "data as JSON; a str is JSON text already"
    return Response(
        data if isinstance(data, str) else to_json(data),
        status=status, headers=headers,
        content_type='application/json; charset=utf-8')


def error_response(code, message, status, headers=None, **extra):
    body = {'code': code, 'message': message}
    body.update({k: v for k, v in extra.items() if v is not None})
    return answer({'error': body}, status=status, headers=headers)


def _language(request):
    for value, _ in request.accept_languages:
        language = LANGUAGES.get(value.split('-')[0].lower())
        if language:
            return language
    return None


def bearer(request):
    "The bearer token of the request, or None"
    header = request.headers.get('Authorization', '')
    scheme, _, token = header.partition(' ')
    token = token.strip()
    if scheme.lower() != 'bearer' or not token or len(token) > 128:
        return None
    return token


def body(request):
    "The request's JSON object, or invalid_request"
    if not request.is_json:
        raise error('invalid_request', 400)
    try:
        data = json.loads(request.get_data(cache=True))
    except RequestEntityTooLarge:
        raise
    except (ValueError, UnicodeDecodeError):
        raise error('invalid_request', 400)
    if not isinstance(data, dict):
        raise error('invalid_request', 400)
    return data


def route(path, method='GET', visitor=False, read_committed_=False,
        max_size=MAX_BODY):
    """Register a visitor API route on trytond's application.

    The handler is called as handler(request, *args, visitor=<web.user id
    or None>, **view_args) inside one transaction (root, no access checks:
    the handler names what the visitor may see) and returns data to
    answer as JSON 200, a (data, status) pair or a Response.  visitor:
    the route needs a visitor session.  read_committed_: the route
    decides through the engine and runs its transaction READ COMMITTED
    (one transaction, one connection, hot rows wait instead of failing)."""
    def decorator(func):
        @functools.wraps(func)
        def endpoint(request, pool, **kwargs):
            try:
                return _call(
                    func, request, pool, kwargs, method, visitor,
                    read_committed_)
            except ApiError as exception:
                return error_response(
                    exception.code, exception.message, exception.status,
                    headers=exception.extra.pop('headers', None),
                    **exception.extra)
            except BookingError as exception:
                until = exception.arguments.get('until')
                # A restriction's end as data too (doc/visitor-api.md).
                extra = {'until': until.isoformat()} if isinstance(
                    until, dt.date) else {}
                return error_response(
                    exception.code, exception.message,
                    STATUS.get(exception.code, 400), **extra)
            except RequestEntityTooLarge:
                return error_response(
                    'payload_too_large', 'Request body too large.', 413)
            except backend.DatabaseOperationalError:
                logger.warning('busy: %s %s', method, path, exc_info=True)
                return error_response(
                    'busy', 'The server is busy, please retry.', 503,
                    headers={'Retry-After': '1'})
            except HTTPException as exception:
                return error_response(
                    'invalid_request', exception.name, exception.code)
            except Exception:
                logger.exception('visitor API %s %s', method, path)
                return error_response(
                    'server_error', 'Internal error.', 500)
        wrapped = with_pool(endpoint)
        # Known before Tryton looks at the caller (it would try a login
        # for a Basic header): the body limit of every visitor route.
        wrapped.max_request_size = max_size
        app.route(BASE + path, methods=[method])(wrapped)
        ROUTES.append((method, path, func, visitor))
        return func
    return decorator


def _call(func, request, pool, kwargs, method, visitor, read_committed_):
    token = bearer(request)
    readonly = method == 'GET'
    context = {'_request': request.context}
    language = _language(request)
    if language:
        context['language'] = language
    retry = config.getint('database', 'retry')
    for count in range(retry + 1):
        if count:
            time.sleep(0.02 * count)
        with Transaction().start(pool.database_name, 0, readonly=readonly,
                context=context) as transaction:
            # Before the first statement: the level of an idle
            # transaction can still change.
            here = read_committed_ and read_committed(transaction)
            try:
                _limit(request, token, visitor)
                with transaction.set_context(_zl_decide=here or None):
                    visitor_id = _visitor(token) if visitor else None
                    result = func(
                        request, database_name=pool.database_name,
                        visitor=visitor_id, **kwargs)
            except backend.DatabaseOperationalError:
                transaction.rollback()
                if count < retry and not readonly:
                    continue
                raise
            except Exception:
                transaction.rollback()
                raise
            if not readonly:
                transaction.commit()
        break
    if isinstance(result, Response):
        return result
    status = 200
    if isinstance(result, tuple):
        result, status = result
    return answer(result, status=status)


def _limit(request, token, visitor):
    "Rate limits: per session on visitor routes, per IP on public ones"
    config = values()
    if visitor and token:
        wait = limiter.hit('token', token, config['rate_token'])
    else:
        wait = limiter.hit('ip', request.remote_addr, config['rate_ip'])
    if wait:
        raise error('rate_limited', 429, headers={'Retry-After': str(wait)})


def values():
    return Pool().get('zl.mp.configuration').values()


def _visitor(token):
    pool = Pool()
    WebUser = pool.get('web.user')
    if token is None:
        raise error('unauthorized', 401)
    visitor = WebUser.session_user(token, values()['session_hours'])
    if visitor is None:
        raise error('unauthorized', 401)
    return visitor


def iso(value, utc=False):
    """A date as YYYY-MM-DD; a datetime as ISO 8601 with the site's
    offset (naive values are site time, or UTC when utc: create_date)"""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        zone = ZoneInfo(Pool().get(
                'zl.reservation.configuration').values()['timezone'])
        if utc:
            value = value.replace(tzinfo=dt.timezone.utc).astimezone(zone)
        else:
            value = value.replace(tzinfo=zone)
        return value.replace(microsecond=0).isoformat()
    return value.isoformat()
