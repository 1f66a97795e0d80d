# This file is part of zhonglian-ticketing. See README.md for the licence.
"""The visitor API against its own OpenAPI document: schemathesis fuzzes
every operation of `GET /{db}/zl_mp/v1/openapi.json` on the live server
(PostgreSQL, gunicorn with two workers, WeChat answered by the stand-in),
logged in as a visitor, and checks that no answer is a 5xx and that every
answer's status, content type and body are the documented ones."""
from collections import Counter, defaultdict

import hypothesis
import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    response_schema_conformance,
    status_code_conformance,
)
from visitor_api import Api, booking_request, drop_site, make_site, visitor

from trytond.modules.zl_miniprogram import standin

pytestmark = pytest.mark.postgresql

# ignored_auth fails when an operation that needs a visitor answers 2xx
# without a bearer token, or with a wrong one.
CHECKS = [not_a_server_error, status_code_conformance,
    content_type_conformance, response_schema_conformance, ignored_auth]
# Bounded so that the whole file runs in about two minutes on 2 shared
# cores (50 examples: about 30 s of requests, the site takes the rest);
# derandomized so that a failure found once is found again.
EXAMPLES = 50
SEED = 20261126
SETTINGS = hypothesis.settings(max_examples=EXAMPLES, deadline=None,
    derandomize=True, database=None,
    # Each example is an HTTP round trip: slow for Hypothesis by design.
    suppress_health_check=list(hypothesis.HealthCheck))
# The fuzzed operations' answers by status (test_fuzzing_went_past_the_door)
ANSWERS = defaultdict(Counter)


@pytest.fixture(scope='module')
def wechat():
    server, url = standin.start()
    yield server, url
    server.shutdown()
    server.server_close()


@pytest.fixture(scope='module')
def site(pg_template, tmp_path_factory, wechat, server_module):
    _, wechat_url = wechat
    config, name, ids = make_site(pg_template,
        tmp_path_factory.mktemp('mp-schema'), wechat_url,
        standin.DEFAULT_APPS)
    url = server_module(config, name, workers=2)
    yield Api(url, name), ids
    drop_site(name)


@pytest.fixture(scope='module')
def visitor_api(site):
    "The visitor whose bearer token the fuzzed requests carry"
    api, _ = site
    return api.login('schemathesis')


@pytest.fixture(scope='module')
def api_schema(site):
    api, _ = site
    # A fixed seed: schemathesis draws its own otherwise, and a failure
    # found once would not come back in the next run.
    schema = schemathesis.openapi.from_url(api.base + '/openapi.json',
        config=schemathesis.Config(seed=SEED))
    # The document's server is relative (the database's path): the
    # requests go to the server under test.
    schema.config.update(base_url=api.base)
    return schema


# schemathesis 4.32's from_fixture names each operation's subtest by
# rewriting the item's `_nodeid`, which pytest 9.2 no longer has (it is
# `_id`, a NodeId): without this shim every run ends in AttributeError
# before a request is sent. The subtests keep their operation labels.
if not hasattr(pytest.Function, '_nodeid'):
    pytest.Function._nodeid = property(
        lambda item: item.nodeid, lambda item, value: None)

schema = schemathesis.pytest.from_fixture('api_schema')


def _token(case, site, visitor_api):
    # /auth/logout ends the session it is called with: it gets a session
    # of its own, or every later example would only test the 401.
    if case.path == '/auth/logout':
        return site[0].login('schemathesis-logout').token
    return visitor_api.token


@schema.parametrize()
@SETTINGS
def test_visitor_api_conforms(case, site, visitor_api):
    """Generated requests, valid and invalid, to every operation: the
    answer is never a 5xx and is what the document says"""
    response = case.call_and_validate(checks=CHECKS, timeout=60, headers={
            'Authorization': 'Bearer ' + _token(case, site, visitor_api)})
    ANSWERS[case.operation.label][response.status_code] += 1


def test_fuzzing_went_past_the_door(api_schema):
    """Every operation of the document was fuzzed, and answered something
    else than 401 at least once: the visitor's token was honoured, so the
    visitor routes were fuzzed beyond their authentication"""
    if not ANSWERS:
        pytest.skip('test_visitor_api_conforms did not run')
    labels = {result.ok().label
        for result in api_schema.get_all_operations()}
    assert set(ANSWERS) == labels
    for label, statuses in sorted(ANSWERS.items()):
        print(label, dict(statuses))
        assert set(statuses) - {401}, label


def test_success_answers_conform(site, api_schema, visitor_api):
    """The answers random input rarely reaches (a booking made, viewed,
    its pass, cancelled; a companion saved and removed), validated with
    the same checks"""
    api, ids = site
    today = ids['today']
    # Tomorrow's session (open: one day ahead), still cancellable; today's
    # all-day session started at midnight.
    slot = ids['slots'][sorted(ids['slots'])[1]]
    auth = {'Authorization': 'Bearer ' + visitor_api.token}
    failures = []

    def call(method, path, status, **kwargs):
        case = api_schema[path][method].Case(**kwargs)
        response = case.call(headers=auth, timeout=60)
        # Every answer checked before failing: one report lists them all.
        try:
            case.validate_response(response, checks=CHECKS, headers=auth)
        except FailureGroup as group:
            failures.append(f'{method} {path}:\n{group}')
        if response.status_code != status:
            failures.append(f'{method} {path}: {response.status_code}, '
                f'not {status}: {response.text}')
            pytest.fail('\n\n'.join(failures), pytrace=False)
        return response

    call('GET', '/tickets', 200)
    call('GET', '/tickets/{ticket_id}', 200,
        path_parameters={'ticket_id': str(ids['free'])})
    call('GET', '/tickets/{ticket_id}/slots', 200,
        path_parameters={'ticket_id': str(ids['free'])},
        query={'from': today, 'to': sorted(ids['slots'])[-1]})
    call('GET', '/promo/{scene}', 200,
        path_parameters={'scene': ids['scene']})
    # The hidden group ticket, opened by its promotion code
    call('GET', '/tickets/{ticket_id}', 200,
        path_parameters={'ticket_id': str(ids['group'])},
        query={'promo': ids['scene']})
    companion = call('POST', '/companions', 201,
        body=visitor(4001, '同伴')).json()
    call('GET', '/companions', 200)
    request = booking_request(ids, slot,
        [visitor(4002), {'companion_id': companion['id']}],
        contact={'name': '联系人', 'phone': '13800138000'})
    booking = call('POST', '/bookings', 201, body=request).json()
    # The same idempotency key: the same booking, documented as 200.
    call('POST', '/bookings', 200, body=request)
    call('GET', '/bookings', 200)
    number = {'number': booking['number']}
    call('GET', '/bookings/{number}', 200, path_parameters=number)
    call('GET', '/passes/{code}/qr.png', 200,
        path_parameters={'code': booking['passes'][0]['code']})
    call('POST', '/bookings/{number}/cancel', 200, path_parameters=number)
    call('DELETE', '/companions/{companion_id}', 204,
        path_parameters={'companion_id': str(companion['id'])})
    call('POST', '/auth/wechat', 200, body={'code': 'ok:schema-login'})
    assert not failures, '\n\n'.join(failures)
