# This file is part of zhonglian-ticketing. See README.md for the licence.
"""The OpenAPI document names exactly the routes the module registers, and
every code it documents has its message (no database)."""
import re
from pathlib import Path

from trytond.modules.zl_miniprogram import api, routes  # noqa: F401
from trytond.modules.zl_miniprogram.openapi import document

MODULE = Path(__file__).resolve().parents[1]
ENGINE = MODULE.parent / 'zl_reservation'


def _operations():
    found = set()
    for method, path, _, _ in api.ROUTES:
        if path == '/<path:rest>':
            continue  # the JSON 404 of every unknown path
        found.add((method.lower(), re.sub(r'<(\w+)>', r'{\1}', path)))
    return found


def test_document_names_every_route():
    doc = document('/db/zl_mp/v1')
    documented = {(method, path) for path, item in doc['paths'].items()
        for method in item}
    assert documented == _operations()


def test_every_documented_code_has_a_message():
    doc = document('/db/zl_mp/v1')
    codes = set()
    for item in doc['paths'].values():
        for operation in item.values():
            for status, response in operation['responses'].items():
                if status.startswith(('4', '5')):
                    codes.update(response['description'].split(', '))
    messages = set(re.findall(r'id="msg_api_(\w+)"',
            (MODULE / 'message.xml').read_text()))
    messages |= set(re.findall(r'id="msg_(\w+)"',
            (ENGINE / 'message.xml').read_text()))
    messages |= set(re.findall(r"'(promo_\w+)'",
            (MODULE / 'promo.py').read_text()))
    # Answered before a transaction exists, in English and Chinese alike.
    plain = {'payload_too_large', 'busy', 'server_error'}
    assert codes - plain <= messages, codes - plain - messages


def test_security_follows_the_routes():
    doc = document('/db/zl_mp/v1')
    needs = {(m.lower(), re.sub(r'<(\w+)>', r'{\1}', p))
        for m, p, _, visitor in api.ROUTES if visitor}
    secured = set()
    for path, item in doc['paths'].items():
        for method, operation in item.items():
            if operation['security']:
                secured.add((method, path))
            assert bool(operation['security']) == (
                '401' in operation['responses']), path
    assert needs and secured == needs
