"""Fixtures for cross-module tests: real databases built by trytond-admin
and real servers (helpers in zl_testing.py)."""
import os
import subprocess
import time
import urllib.error
import uuid

import pytest
from zl_testing import (
    BIN,
    CHROMIUM_ARGS,
    child_env,
    create_database,
    free_port,
    rpc,
    write_config,
)

# PostgreSQL ---------------------------------------------------------------


def _pg_uri():
    return os.environ.get('TRYTOND_DATABASE__URI', 'postgresql:///')


def _pg_execute(sql):
    import psycopg
    with psycopg.connect(
            _pg_uri(), dbname='postgres', autocommit=True) as conn:
        conn.execute(sql)


@pytest.fixture(scope='session')
def pg_template(tmp_path_factory):
    """One database built by trytond-admin per session; pg_database copies
    it (CREATE DATABASE ... TEMPLATE is much faster than trytond-admin)."""
    name = f'zl_template_{uuid.uuid4().hex[:8]}'
    config = write_config(
        tmp_path_factory.mktemp('pg') / 'trytond.conf', _pg_uri())
    _pg_execute(f'CREATE DATABASE "{name}"')
    try:
        create_database(config, name)
        yield name
    finally:
        _pg_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_database(pg_template):
    """Name of a fresh PostgreSQL database with zl_ticket_core activated
    (admin password zl_testing.ADMIN_PASSWORD), dropped afterwards."""
    name = f'zl_test_{uuid.uuid4().hex[:8]}'
    _pg_execute(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"')
    try:
        yield name
    finally:
        _pg_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_config(tmp_path):
    """trytond config file pointing at the PostgreSQL server."""
    return write_config(tmp_path / 'trytond-pg.conf', _pg_uri())


# SQLite -------------------------------------------------------------------

@pytest.fixture(scope='module')
def sqlite_database(tmp_path_factory):
    """(config, name) of a SQLite file database with zl_ticket_core
    activated, shared by the tests of one file."""
    folder = tmp_path_factory.mktemp('sqlite')
    config = write_config(folder / 'trytond.conf', 'sqlite://', folder)
    name = 'zl'
    (folder / f'{name}.sqlite').touch()  # trytond opens, never creates it
    create_database(config, name)
    return config, name


# Server -------------------------------------------------------------------

@pytest.fixture
def server(tmp_path):
    """Factory: server(config, database, workers=0) serves database (and
    the sao web root) on a free 127.0.0.1 port and returns the base URL.
    workers=0 runs trytond's own server, workers=N gunicorn with N
    workers; log_level=logging.INFO (say) logs more than errors.
    Servers are stopped at teardown; server.logs[url] is the log file
    (stdout and stderr), in tmp_path."""
    yield from _servers(tmp_path)


@pytest.fixture(scope='module')
def server_module(tmp_path_factory):
    "server, for the tests of one file"
    yield from _servers(tmp_path_factory.mktemp('server'))


def _servers(tmp_path):
    started = []

    def start(config, database, workers=0, log_level=None):
        port = free_port()
        env = child_env()
        if log_level is not None:
            env['TRYTOND_LOGGING_LEVEL'] = str(log_level)
        if workers:
            cmd = [BIN / 'gunicorn', '--bind', f'127.0.0.1:{port}',
                '--workers', str(workers), '--no-control-socket',
                'trytond.application:app']
            env['TRYTOND_CONFIG'] = str(config)
            # Preload the pool: trytond 8.0.12 lazily initialising it under
            # gunicorn answers logins with KeyError 'res.user'.
            env['TRYTOND_DATABASE_NAMES'] = database
        else:
            # The last -c file wins: it sets the port.
            listen = tmp_path / f'listen-{port}.conf'
            listen.write_text(f'[web]\nlisten = 127.0.0.1:{port}\n')
            cmd = [BIN / 'trytond', '-c', config, listen, '-d', database]
        log_path = tmp_path / f'server-{port}.log'
        log = open(log_path, 'w+')
        proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL,
            stdout=log, stderr=subprocess.STDOUT)
        started.append((proc, log))
        url = f'http://127.0.0.1:{port}'
        start.logs[url] = log_path
        deadline = time.monotonic() + 90
        while True:
            # The database list is closed ([database] list = False): the
            # server is up when it answers its version.
            try:
                rpc(url, 'common.server.version')
                break
            except (urllib.error.URLError, ConnectionError):
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    pytest.fail('server did not start:\n'
                        + log.read()[-4000:], pytrace=False)
                time.sleep(0.3)
        return url

    start.logs = {}
    yield start
    for proc, log in started:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


# Browser ------------------------------------------------------------------

@pytest.fixture
def page():
    """A headless Debian chromium page (playwright), English locale: the
    Chinese must come from the user's language"""
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path='/usr/bin/chromium', args=CHROMIUM_ARGS)
        page = browser.new_page(
            locale='en-US', viewport={'width': 1280, 'height': 800})
        page.set_default_timeout(30_000)
        yield page
        browser.close()
