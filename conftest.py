"""pytest glue for the module tests in addons/ and the tests in tests/.

- Test files under addons/NAME/ are imported as trytond.modules.NAME.*,
  the name trytond itself loads them under, so no module runs twice.
- Scenario doctests (scenario_*.rst) drop their database after each run.
- Tests marked ``postgresql`` or ``browser`` skip when the server or the
  browser is missing, except in CI (``CI`` set) where that is a failure:
  CI must never pass by skipping them.
"""
import importlib
import importlib.abc
import importlib.util
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent
ADDONS = {p.parent.name for p in (ROOT / 'addons').glob('*/tryton.cfg')}
CHROMIUM = '/usr/bin/chromium'


class _AddonAlias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """pytest's default import mode turns addons/NAME/tests/test_x.py into
    the module NAME.tests.test_x; hand out trytond.modules.NAME.tests.test_x
    instead (same file, single copy of every class and route)."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname.partition('.')[0] in ADDONS:
            spec = importlib.util.spec_from_loader(fullname, self)
            spec.loader_state = 'trytond.modules.' + fullname
            return spec

    def create_module(self, spec):
        module = importlib.import_module(spec.loader_state)
        spec.loader_state = module.__spec__
        return module

    def exec_module(self, module):
        # The import system replaced __spec__ with ours: put it back.
        module.__spec__ = module.__spec__.loader_state


if ADDONS:
    sys.meta_path.insert(0, _AddonAlias())


def pytest_runtest_teardown(item, nextitem):
    # trytond's own runner gives scenarios doctest_teardown as tearDown:
    # it drops the database the scenario created.
    dtest = getattr(item, 'dtest', None)  # set on doctest items only
    if dtest is not None and item.path.name.startswith('scenario_'):
        from trytond.tests.test_tryton import doctest_teardown
        doctest_teardown(dtest)


def _postgresql_problem():
    uri = os.environ.get('TRYTOND_DATABASE__URI', '')
    if not uri.startswith('postgresql'):
        return 'TRYTOND_DATABASE__URI is not a postgresql:// URI'
    try:
        import psycopg
        with psycopg.connect(uri, dbname='postgres', connect_timeout=5):
            pass
    except Exception as e:
        return f'PostgreSQL unreachable at {uri}: {e}'


def _browser_problem():
    if not os.access(CHROMIUM, os.X_OK):
        return f'{CHROMIUM} not installed'
    if not os.path.exists('/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc'):
        return 'CJK font fonts-wqy-zenhei not installed'


_PROBLEMS = {}
_CHECKS = {'postgresql': _postgresql_problem, 'browser': _browser_problem}


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    for marker, check in _CHECKS.items():
        if item.get_closest_marker(marker) is None:
            continue
        if marker not in _PROBLEMS:
            _PROBLEMS[marker] = check()
        if problem := _PROBLEMS[marker]:
            if os.environ.get('CI'):
                pytest.fail(f'{marker} required in CI: {problem}',
                    pytrace=False)
            pytest.skip(f'{marker}: {problem}')
