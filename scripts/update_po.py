#!/usr/bin/env python3
"""Refresh a module's locale/zh_CN.po from its models, views and messages.

Existing translations are kept; new strings come in empty (and are
listed); strings that are gone must be removed by hand.  Run after
changing any label:

    python scripts/update_po.py zl_ticket_core
    python scripts/update_po.py --check zl_ticket_core zl_reservation  # CI
"""
import os
import sys

os.environ.setdefault('DB_NAME', ':memory:')

import polib  # noqa: E402

from trytond.pool import Pool  # noqa: E402
from trytond.tests.test_tryton import DB_NAME, USER, activate_module  # noqa: E402
from trytond.tools import file_open  # noqa: E402
from trytond.transaction import Transaction  # noqa: E402

LANG = 'zh_CN'


def main(module, check=False):
    activate_module([module])
    with Transaction().start(DB_NAME, USER, context={'language': 'en'}):
        pool = Pool()
        Translation = pool.get('ir.translation')
        TranslationSet = pool.get('ir.translation.set', type='wizard')
        session_id, _, _ = TranslationSet.create()
        TranslationSet(session_id).transition_set_()
        Lang = pool.get('ir.lang')
        TranslationUpdate = pool.get('ir.translation.update', type='wizard')
        lang, = Lang.search([('code', '=', LANG)])
        session_id, _, _ = TranslationUpdate.create()
        update = TranslationUpdate(session_id)
        update.start.language = lang
        update.do_update({})
        content = Translation.translation_export(lang.code, module)
        fresh = polib.pofile(content.decode('utf-8'))
        # The export caps what it returns: add the model, field and
        # selection strings it left out.
        known = {e.msgctxt for e in fresh}
        for row in Translation.search([
                    ('lang', '=', 'en'), ('module', '=', module),
                    ('res_id', '=', -1)]):
            context = '%s:%s:' % (row.type, row.name)
            if context not in known and row.src:
                fresh.append(polib.POEntry(msgctxt=context, msgid=row.src))
                known.add(context)
    path = os.path.join(
        os.path.dirname(file_open(os.path.join(module, 'tryton.cfg')).name),
        'locale', LANG + '.po')
    old = {}
    if os.path.exists(path):
        old = {(e.msgctxt, e.msgid): e.msgstr for e in polib.pofile(path)}
    # Entries the database no longer produces stay until removed by hand.
    known = {(e.msgctxt, e.msgid) for e in fresh}
    if os.path.exists(path):
        for entry in polib.pofile(path):
            if (entry.msgctxt, entry.msgid) not in known:
                fresh.append(entry)
    missing = []
    for entry in fresh:
        entry.msgstr = old.get((entry.msgctxt, entry.msgid), entry.msgstr)
        if not entry.msgstr:
            missing.append(entry)
    fresh.metadata = {'Content-Type': 'text/plain; charset=utf-8'}
    fresh.sort(key=lambda e: (e.msgctxt, e.msgid))
    if check:
        # CI: the shipped catalogue must cover every string, unchanged.
        def entries(po):
            return {(e.msgctxt, e.msgid, e.msgstr) for e in po}
        if entries(polib.pofile(path)) != entries(fresh):
            missing = missing or ['%s is out of date' % path]
    else:
        fresh.save(path)
    for entry in missing:
        print('untranslated: %s' % (
                entry if isinstance(entry, str)
                else '%s %r' % (entry.msgctxt, entry.msgid)))
    print('%s: %d entries, %d untranslated' % (
            path, len(fresh), len(missing)))
    return 1 if missing else 0


if __name__ == '__main__':
    args = [a for a in sys.argv[1:] if a != '--check']
    sys.exit(max(main(m, check='--check' in sys.argv) for m in args))
