"""The module activates on PostgreSQL and both servers serve it."""
import urllib.request

import pytest
from zl_testing import ADMIN_PASSWORD, rpc

pytestmark = pytest.mark.postgresql


@pytest.mark.parametrize('workers', [0, 2], ids=['trytond', 'gunicorn'])
def test_login_and_module_state(pg_database, pg_config, server, workers):
    url = server(pg_config, pg_database, workers=workers)

    with urllib.request.urlopen(url + '/', timeout=30) as response:
        assert b'sao' in response.read()  # web root is the sao client

    user_id, token, *_ = rpc(url, 'common.db.login',
        ['admin', {'password': ADMIN_PASSWORD}, 'en'], database=pg_database)
    session = f'admin:{user_id}:{token}'
    modules = rpc(url, 'model.ir.module.search_read',
        [[('name', '=', 'zl_ticket_core')], 0, None, None, ['state'], {}],
        database=pg_database, session=session)
    assert [m['state'] for m in modules] == ['activated']
