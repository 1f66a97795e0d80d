# This file is part of zhonglian-ticketing. See README.md for the licence.
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction, without_check_access

# Who the visitors are: web_user opens web.user to every user, party
# to everyone too; here only the 小程序用户 page reads them.
VISITOR_DATA = {
    'web.user', 'web.user-party.party.secondary', 'zl.mp.companion'}
_NONE = {'read': False, 'write': False, 'create': False, 'delete': False}


class ModelAccess(metaclass=PoolMeta):
    __name__ = 'ir.model.access'

    @classmethod
    def get_access(cls, models):
        """Visitor accounts and their companions are personal data: a
        staff user reads them only with the 小程序用户 page (web_user
        gives every user read access to web.user)."""
        access = super().get_access(models)
        if not VISITOR_DATA & set(access):
            return access
        pool = Pool()
        User = pool.get('res.user')
        ModelData = pool.get('ir.model.data')
        with without_check_access():
            try:
                group = ModelData.get_id(
                    'zl_miniprogram', 'group_page_mp_visitor')
            except KeyError:  # while the module is being installed
                return access
            groups = User.get_groups()
        if group not in groups:
            for model in VISITOR_DATA & set(access):
                access[model] = _NONE.copy()
        return access


class UIMenu(metaclass=PoolMeta):
    __name__ = 'ir.ui.menu'

    @classmethod
    def __register__(cls, module):
        super().__register__(module)
        if module != 'zl_miniprogram':
            return
        # Tryton's party module comes with web_user only: the product
        # keeps no parties, so its menu belongs with the administrator's
        # technical pages (管理), not among the site's pages.
        pool = Pool()
        ModelData = pool.get('ir.model.data')
        table = cls.__table__()
        try:
            party = ModelData.get_id('party', 'menu_party')
            administration = ModelData.get_id('ir', 'menu_administration')
        except KeyError:
            return
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.update(
                [table.parent], [administration], where=table.id == party))
