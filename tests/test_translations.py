"""Every string a staff user meets in the back office reads in Chinese.

scripts/update_po.py --check covers our own catalogues; this covers what
staff see, wherever it comes from: our modules, Tryton's (ir, res,
user_role: their zh_CN catalogues miss strings and mark many others fuzzy,
which Tryton then ignores) and sao's.  A missing string is listed with the
.po entry that fixes it: entries of our modules go to their own
locale/zh_CN.po, the others to zl_ticket_core's as overrides
("type:name:module.xml_id").

What staff meet: the menus outside Tryton's 管理 (administration) menu,
the models their pages and wizards open and every model of our modules,
the models one relation away in those models' views, and the core models
of 系统管理 (CORE_MODELS); of each model its name, field labels, help,
selection values, view strings, buttons and SQL constraint messages; the
shipped records of its translatable fields; every ir.message (errors can
come from anywhere); the wizards' buttons; sao's own strings."""
import json
import re
import sys
from pathlib import Path

import polib
from zl_testing import ROOT, SAO, run_proteus

LANGUAGE = 'zh_CN'
OUR_MODULES = sorted(p.parent.name for p in ROOT.glob('addons/*/tryton.cfg'))
# Core models of 系统管理 that staff open from our pages.
CORE_MODELS = ['res.user', 'res.role', 'res.group', 'ir.ui.menu',
    'ir.model.log', 'ir.model.button', 'ir.model']
# Latin words that stay as they are in Chinese text: codes, file formats,
# protocol and product names.  Nothing here is an English word to
# translate.
ALLOWED_WORDS = {
    'API', 'CSV', 'HTML', 'ID', 'IP', 'JSON', 'URL', 'XML',  # codes
    'JPEG', 'PNG', 'QR',  # image formats, QR code
    'PYSON', 'PySON',  # Tryton's expression language
    'PostgreSQL', 'Python', 'REST', 'RFC',  # products, standards
    'strftime',  # a function name
    'OTA',  # online travel agency: the trade's own abbreviation
    'AppID', 'AppSecret', 'OpenID', 'UnionID', 'H5',  # WeChat's own terms
    'WeChat',
}
WORD = re.compile(r'[A-Za-z]{2,}')
# Placeholders are filled in at run time: %(name)s, %s, %1 (sao), ${date_Y}
PLACEHOLDER = re.compile(r'%\(\w+\)[a-z]|%[a-z]|%\d|\$\{\w+\}')
# GTK access keys that sao shows as they are: 收藏(_V)
ACCESS_KEY = re.compile(r'\(_\w\)')
TESTS = Path(__file__).resolve().parent


def english(text):
    "The text (as staff see it) holds a word to translate"
    if not text:
        return False
    text = str(text)
    if ACCESS_KEY.search(text):
        return True
    return any(w not in ALLOWED_WORDS
        for w in WORD.findall(PLACEHOLDER.sub('', text)))


def test_backoffice_strings_are_chinese(sqlite_database):
    config, database = sqlite_database
    output = run_proteus(config, database,
        f'import json, sys\nsys.path.insert(0, {str(TESTS)!r})\n'
        'from test_translations import untranslated\n'
        'print(json.dumps(untranslated(config.database_name)))\n')
    missing = json.loads(output.splitlines()[-1])
    assert not missing, '%d strings staff see are not Chinese:\n%s' % (
        len(missing), '\n'.join(
            '%s  msgctxt "%s"  msgid %s' % (po, ctx, json.dumps(text,
                    ensure_ascii=False))
            for po, ctx, text in missing))


def test_sao_strings_are_chinese():
    "sao's own strings, with web/locale/zh_CN.json over sao's catalogue"
    ours = json.loads((ROOT / 'web' / 'locale' / f'{LANGUAGE}.json')
        .read_text())
    sao = json.loads((SAO / 'locale' / f'{LANGUAGE}.json').read_text())
    msgids = {e.msgid for e in polib.pofile(
            str(SAO / 'locale' / 'messages.pot')) if e.msgid}
    assert not set(ours) - msgids, 'not sao strings (any more)'
    missing = []
    for msgid in sorted(msgids):
        text = ours.get(msgid) or (sao.get(msgid) or [None, ''])[-1]
        if english(text or msgid):
            missing.append(msgid)
    assert not missing, 'add to web/locale/%s.json:\n%s' % (
        LANGUAGE, '\n'.join(json.dumps(m) for m in missing))


# Run in a child process (run_proteus): --------------------------------------

def untranslated(database):
    """[po file, msgctxt, text shown] of the strings staff see in English
    in LANGUAGE"""
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    with Transaction().start(
            database, 0, readonly=True, context={'language': LANGUAGE}):
        return _Survey(Pool()).run()


class _Survey:

    def __init__(self, pool):
        self.pool = pool
        self.missing = {}
        self.model_names = {name for name, _ in pool.iterobject()}

    def get(self, name, type='model'):
        return self.pool.get(name, type=type)

    def report(self, context, text):
        "context: the .po context of text, with the owning module"
        if not english(text):
            return
        ttype, name, ref = context.split(':', 2)
        module, _, fs_id = ref.partition('.')
        if ttype == 'constraint':  # not a message id: fix the code
            po = 'code'
        elif module in OUR_MODULES:
            po, context = module, '%s:%s:%s' % (ttype, name, fs_id)
        else:
            po = 'zl_ticket_core'  # an override
        self.missing[context, str(text)] = po

    def owner(self, ttype, name):
        "Module of a translation without record, as .po context suffix"
        rows = self.get('ir.translation').search([
                ('lang', '=', 'en'), ('type', '=', ttype),
                ('name', '=', name)], limit=1)
        return (rows[0].module + '.') if rows else ''

    def record_context(self, record, field):
        ModelData = self.get('ir.model.data')
        data = ModelData.search([
                ('model', '=', record.__name__),
                ('db_id', '=', record.id)], limit=1)
        ref = '%s.%s' % (data[0].module, data[0].fs_id) if data else ''
        return 'model:%s,%s:%s' % (record.__name__, field, ref)

    def message_context(self, message_id):
        module, fs_id = message_id.split('.')
        return 'model:ir.message,text:%s.%s' % (module, fs_id)

    def label_context(self, ttype, Model, fname, attr):
        from trytond.tools.string_ import LazyString
        # A label made of a message (e.g. last_modified_at): the message
        for part in getattr(Model._fields[fname], attr) or []:
            if isinstance(part, LazyString):
                return self.message_context(part._args[0])
        name = '%s,%s' % (Model.__name__, fname)
        return '%s:%s:%s' % (ttype, name, self.owner(ttype, name))

    def run(self):
        from trytond.model import ModelView
        models, wizards = self.reach()
        for name in sorted(models):
            Model = self.get(name)
            if issubclass(Model, ModelView):
                self.model(Model)
        for wizard in sorted(wizards):
            self.wizard(wizard)
        for message in self.get('ir.message').search([]):
            self.report(self.record_context(message, 'text'), message.text)
        return sorted([po, c, t] for (c, t), po in self.missing.items())

    def reach(self):
        "The models and wizards staff reach from their menus"
        from trytond.model import ModelView
        from trytond.wizard import StateView
        Menu = self.get('ir.ui.menu')
        ModelData = self.get('ir.model.data')
        IrModel = self.get('ir.model')
        Keyword = self.get('ir.action.keyword')
        admin = Menu.search([('parent', 'child_of',
                    [ModelData.get_id('ir', 'menu_administration')])])
        models, wizards = set(), set()
        for menu in Menu.search([('id', 'not in', [m.id for m in admin])]):
            self.report(self.record_context(menu, 'name'), menu.name)
            if menu.action:
                self.action(menu.action.action, models, wizards)
        models.update(m.name for m in IrModel.search([
                    ('module', 'in', OUR_MODULES)]))
        for wizard in wizards:
            for state in self.get(wizard, type='wizard').states.values():
                if isinstance(state, StateView):
                    models.add(state.model_name)
        pages = set(models)
        # where staff save records: their pages and the core models
        self.pages = pages | set(CORE_MODELS)
        models.update(CORE_MODELS)
        for name in sorted(pages):
            Model = self.get(name)
            if not issubclass(Model, ModelView):
                continue
            for view_type in ['tree', 'form']:
                view = Model.fields_view_get(view_type=view_type)
                models.update(f['relation'] for f in view['fields'].values()
                    if f.get('relation'))
            for keyword in Keyword.search([
                        ('model', 'like', name + ',%'),
                        ('keyword', 'in', ['form_relate', 'form_action',
                                'form_print', 'tree_open'])]):
                self.action(keyword.action, set(), set())
        return models, wizards

    def action(self, action, models, wizards):
        # Its XML id names the window, wizard... that holds the action.
        record, = self.get(action.type).search([('action', '=', action.id)])
        context = self.record_context(record, 'name').replace(
            action.type, 'ir.action', 1)
        self.report(context, action.name)
        if action.type == 'ir.action.act_window':
            window = record
            if window.res_model:
                models.add(window.res_model)
            for domain in window.act_window_domains:
                self.report(self.record_context(domain, 'name'), domain.name)
        elif action.type == 'ir.action.wizard':
            wizards.add(record.wiz_name)

    def model(self, Model):
        from lxml import etree

        from trytond.i18n import gettext
        name = Model.__name__
        IrModel = self.get('ir.model')
        Translation = self.get('ir.translation')
        model, = IrModel.search([('name', '=', name)])
        self.report('model:%s,string:%s' % (
                name, self.owner('model', name + ',string')), model.string)
        for fname, field in Model.fields_get().items():
            self.report(self.label_context('field', Model, fname, 'string'),
                field.get('string'))
            self.report(self.label_context('help', Model, fname, 'help'),
                field.get('help'))
            selection = field.get('selection')
            # A reference's selection names models (checked where staff
            # meet them); read-only, as in the log, it shows only its own.
            if (isinstance(selection, str) and field['type'] != 'reference'
                    and not field.get('selection_change_with')):
                selection = getattr(Model, selection)()  # as sao asks it
            if (isinstance(selection, list)
                    and getattr(Model._fields[fname], 'translate_selection',
                        True)):
                for value, label in selection:
                    if value in self.model_names:
                        # a list of models: their names
                        context = 'model:%s,string:%s' % (
                            value, self.owner('model', value + ',string'))
                    else:
                        context = 'selection:%s,%s:%s' % (name, fname,
                            self.owner('selection', name + ',' + fname))
                    self.report(context, label)
        for view in self.get('ir.ui.view').search([
                    ('model', '=', name), ('inherit', '=', None)]):
            arch = Model.fields_view_get(view_id=view.id)['arch']
            for element in etree.fromstring(arch).iter():
                for attr in ['string', 'confirm', 'help', 'sum']:
                    text = element.get(attr)
                    if not english(text):
                        continue
                    rows = Translation.search([
                            ('lang', 'in', ['en', LANGUAGE]),
                            ('type', '=', 'view'), ('name', '=', name),
                            ('src', '=', text)], limit=1)
                    module = rows[0].module if rows else view.module
                    self.report('view:%s:%s.' % (name, module), text)
        for button in self.get('ir.model.button').search([
                    ('model', '=', name)]):
            for field in ['string', 'help', 'confirm']:
                self.report(self.record_context(button, field),
                    getattr(button, field))
        for _, _, message in (getattr(Model, '_sql_constraints', [])
                if name in self.pages and self.staff_write(name) else []):
            text = gettext(message)
            context = (self.message_context(message) if text != message
                else 'constraint:%s:%s.' % (name, model.module))
            self.report(context, text)
        self.shipped_records(Model)

    def staff_write(self, name):
        "Whether a group other than Administration may write the model"
        Access = self.get('ir.model.access')
        admin = self.get('ir.model.data').get_id('res', 'group_admin')
        accesses = Access.search([('model', '=', name)])
        return not accesses or any(
            (a.perm_write or a.perm_create)
            and (not a.group or a.group.id != admin) for a in accesses)

    def shipped_records(self, Model):
        "The records of Model created by XML files, and every group"
        ModelData = self.get('ir.model.data')
        fields = [n for n, f in Model._fields.items()
            if getattr(f, 'translate', False) and f._type in {'char', 'text'}]
        if not fields:
            return
        if Model.__name__ == 'res.group':  # all listed on the user form
            records = Model.search([])
        else:
            records = Model.browse([d.db_id for d in ModelData.search([
                            ('model', '=', Model.__name__),
                            ('db_id', '!=', None)])])
        for record in records:
            for field in fields:
                self.report(self.record_context(record, field),
                    getattr(record, field))

    def wizard(self, name):
        from trytond.wizard import StateView
        Translation = self.get('ir.translation')
        Wizard = self.get(name, type='wizard')
        for state_name, state in Wizard.states.items():
            if not isinstance(state, StateView):
                continue
            for button in state.buttons:
                key = '%s,%s,%s' % (name, state_name, button.state)
                text = Translation.get_source(
                    key, 'wizard_button', LANGUAGE) or button.string
                self.report('wizard_button:%s:%s' % (
                        key, self.owner('wizard_button', key)), text)


if __name__ == '__main__':  # python tests/test_translations.py CONFIG DB
    from trytond.config import update_etc
    from trytond.pool import Pool
    update_etc(sys.argv[1])
    Pool.start()
    Pool(sys.argv[2]).init()
    for row in untranslated(sys.argv[2]):
        print(*row, sep='\t')
