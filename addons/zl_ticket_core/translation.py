# This file is part of zhonglian-ticketing. See README.md for the licence.
import polib

from trytond.pool import Pool, PoolMeta


class Translation(metaclass=PoolMeta):
    __name__ = 'ir.translation'

    @classmethod
    def translation_import(cls, lang, module, po_path):
        # A .po entry whose context ends in "module.xml_id" (or "module.")
        # overrides that module's translation, but Tryton only updates one
        # the module ships and whose text differs: a string left out of its
        # catalogue fails the import, and a right text marked fuzzy stays
        # ignored (Tryton's zh_CN has both).  Make them overridable first.
        cls._prepare_overrides(lang, po_path)
        return super().translation_import(lang, module, po_path)

    @classmethod
    def _prepare_overrides(cls, lang, po_path):
        pool = Pool()
        ModelData = pool.get('ir.model.data')
        if isinstance(po_path, str):
            po_path = [po_path]
        to_create, to_reset = [], []
        for path in po_path:
            for entry in polib.pofile(path):
                if entry.obsolete or not entry.msgctxt:
                    continue
                translation, ref = cls.from_poentry(entry)
                if '.' not in ref:
                    continue
                owner, fs_id = ref.split('.')
                res_id = ModelData.get_id(owner, fs_id) if fs_id else -1
                domain = [
                    ('name', '=', translation.name),
                    ('res_id', '=', res_id),
                    ('lang', '=', lang),
                    ('type', '=', translation.type),
                    ('module', '=', owner),
                    ]
                # As Tryton's lookup of the overridden translation
                if translation.type in {
                        'report', 'view', 'wizard_button', 'selection'}:
                    domain.append(('src', '=', translation.src))
                    domain.append(('src_plural', '=', translation.src_plural))
                translations = cls.search(domain)
                to_reset.extend(t for t in translations if t.fuzzy)
                if not translations:
                    to_create.append(cls(
                            name=translation.name, res_id=res_id, lang=lang,
                            type=translation.type, module=owner,
                            src=translation.src,
                            src_plural=translation.src_plural, value=''))
        cls.save(to_create)
        if to_reset:
            # emptied, the override differs: it sets its text, not fuzzy
            cls.write(to_reset, {'value': ''})
