# This file is part of zhonglian-ticketing. See README.md for the licence.
"""E-ticket passes (电子票) and the keys their QR codes are signed with."""
import hashlib
import hmac

from sql.conditionals import Case
from sql.functions import CurrentTimestamp

from trytond import backend
from trytond.cache import Cache
from trytond.model import Check, Index, ModelSQL, ModelView, Unique, fields
from trytond.modules.zl_ticket_core.audit import AuditMixin
from trytond.pool import Pool
from trytond.transaction import Transaction, without_check_access

from . import passcode
from .engine import EngineOwnedMixin, forget

# A pass that can no longer be used; gates get these in the revocation list.
REVOKED = {'cancelled', 'refunded', 'blocked'}


class PassKey(AuditMixin, ModelSQL, ModelView):
    """Ed25519 key pair; the newest signs new passes, every key keeps
    verifying the passes it signed (rotation never voids a pass)."""
    __name__ = 'zl.pass.key'
    __string__ = "Pass Signing Key"

    key_id = fields.Integer("Key ID", required=True, readonly=True)
    public_key = fields.Binary("Public Key", required=True, readonly=True)
    # Denied to every group by field access: it never leaves the server.
    private_key = fields.Binary("Private Key", required=True, readonly=True)

    _signing_cache = Cache('zl.pass.key.signing', context=False)
    _public_cache = Cache('zl.pass.key.public', context=False)
    # Derived secrets per (database, purpose): the first key never changes.
    _secrets = {}

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('key_id_uniq', Unique(t, t.key_id),
                'zl_reservation.msg_pass_key_unique'),
            ]
        cls._order = [('key_id', 'DESC'), ('id', 'DESC')]
        cls._buttons.update({'rotate': {}})

    @classmethod
    def __register__(cls, module):
        super().__register__(module)
        # The first key is made at installation: bookings then only read
        # keys (making one on first use would race).
        cursor = Transaction().connection.cursor()
        table = cls.__table__()
        cursor.execute(*table.select(table.id, limit=1))
        if not cursor.fetchone():
            private, public = passcode.generate_key()
            cursor.execute(*table.insert(
                    [table.key_id, table.public_key, table.private_key,
                        table.create_uid, table.create_date],
                    [[1, public, private, 0, CurrentTimestamp()]]))

    def get_rec_name(self, name):
        return str(self.key_id)

    @classmethod
    @without_check_access
    def derived_secret(cls, purpose):
        "A secret for purpose, derived from the first key (never rotated)"
        key = (Transaction().database.name, purpose)
        if key not in cls._secrets:
            first, = cls.search([('key_id', '=', 1)])
            cls._secrets[key] = hmac.new(
                bytes(first.private_key), purpose, hashlib.sha256).digest()
        return cls._secrets[key]

    @classmethod
    @without_check_access
    def create_key(cls):
        last = cls.search([], limit=1)
        private, public = passcode.generate_key()
        key, = cls.create([{
                    'key_id': (last[0].key_id + 1) if last else 1,
                    'public_key': public,
                    'private_key': private,
                    }])
        return key

    @classmethod
    @without_check_access
    def signing_key(cls):
        keys = cls.search([], limit=1)
        return keys[0] if keys else cls.create_key()

    @classmethod
    def signing_material(cls):
        "(record id, key id, private key) of the signing key, cached"
        material = cls._signing_cache.get(None)
        if material is None:
            key = cls.signing_key()
            with without_check_access():
                material = (key.id, key.key_id, bytes(key.private_key))
            cls._signing_cache.set(None, material)
        return material

    @classmethod
    def on_modification(cls, mode, keys, field_names=None):
        super().on_modification(mode, keys, field_names=field_names)
        cls._signing_cache.clear()
        cls._public_cache.clear()
        cls._secrets.clear()

    @classmethod
    @without_check_access
    def public_keys(cls):
        "{key_id: raw public key} of every key, for verification, cached"
        keys = cls._public_cache.get(None)
        if keys is None:
            keys = {k.key_id: bytes(k.public_key) for k in cls.search([])}
            cls._public_cache.set(None, keys)
        return keys

    @classmethod
    @ModelView.button
    def rotate(cls, keys):
        cls.create_key()


class Pass(EngineOwnedMixin, AuditMixin, ModelSQL, ModelView):
    "One admission (一人一票; a group pass admits the group)"
    __name__ = 'zl.pass'
    __string__ = "Pass"

    booking = fields.Many2One(
        'zl.booking', "Booking", required=True, ondelete='CASCADE',
        readonly=True)
    visitor = fields.Many2One(
        'zl.booking.visitor', "Visitor", ondelete='RESTRICT',
        readonly=True)
    ticket = fields.Many2One(
        'zl.ticket', "Ticket", required=True, ondelete='RESTRICT',
        readonly=True)
    slot = fields.Many2One(
        'zl.reservation.slot', "Slot", required=True, ondelete='RESTRICT',
        readonly=True)
    date = fields.Date("Date", required=True, readonly=True)
    admits = fields.Integer(
        "Admits", required=True, readonly=True,
        help="People the pass lets in at each use (group size).")
    uses = fields.Integer(
        "Uses", required=True, readonly=True,
        help="Entries the pass allowed when issued.")
    uses_left = fields.Integer("Uses Left", required=True, readonly=True)
    id_digest = fields.Char("ID Digest", readonly=True)
    # The ID's digest under the key of the pass's date only: what an
    # offline gate gets to match an ID card, so that a lost gate exposes
    # one day's digests, never the database-wide id_digest.
    day_digest = fields.Char("Day ID Digest", readonly=True)
    age_band = fields.Selection([
            (None, ""),
            ('child', "Child"),
            ('senior', "Senior"),
            ], "Age Band", readonly=True,
        help="From the ID's birth date on the visit date: a child under 14 "
        "needs a guardian, a senior over 60 may take the priority lane.")
    key = fields.Many2One(
        'zl.pass.key', "Key", required=True, ondelete='RESTRICT',
        readonly=True)
    state = fields.Selection([
            ('valid', "Valid"),
            ('used', "Used"),
            ('cancelled', "Cancelled"),
            ('refunded', "Refunded"),
            ('expired', "Expired"),
            ('blocked', "Blocked"),
            ], "State", required=True, readonly=True, sort=False)
    state_string = state.translated('state')
    code = fields.Function(fields.Char("Code"), 'get_code')
    qr = fields.Function(
        fields.Binary("QR Code", help="The code as the gates scan it."),
        'get_qr')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('date', 'DESC'), ('id', 'DESC')]
        t = cls.__table__()
        cls._sql_constraints += [
            ('uses_left_within_uses',
                Check(t, (t.uses_left >= 0) & (t.uses_left <= t.uses)),
                'zl_reservation.msg_pass_uses_check'),
            ]
        cls._sql_indexes.update({
                # duplicate_visitor and gate look-ups by ID number
                Index(t, (t.id_digest, Index.Equality()),
                    (t.date, Index.Range())),
                })

    def get_rec_name(self, name):
        # Booking number and visitor: how staff and the log name a pass.
        names = [self.booking.rec_name]
        if self.visitor:
            names.append(self.visitor.name)
        return ' / '.join(names)

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, operand, *extra = clause
        bool_op = 'AND' if operator.startswith('!') else 'OR'
        return [bool_op,
            ('booking.rec_name', operator, operand, *extra),
            ('visitor.name', operator, operand, *extra),
            ]

    @classmethod
    def get_code(cls, passes, name):
        pool = Pool()
        Key = pool.get('zl.pass.key')
        with without_check_access():
            keys = {k.id: k for k in Key.browse({p.key.id for p in passes})}
            return {
                p.id: passcode.sign(
                    bytes(keys[p.key.id].private_key), keys[p.key.id].key_id,
                    p.id, p.ticket.id, p.date, p.slot.id)
                for p in passes}

    def qr_png(self):
        return passcode.qr_png(self.code)

    def get_qr(self, name):
        return self.qr_png()

    @classmethod
    def day_key(cls, date):
        "The key of date's day digests (offline ID-card checks)"
        pool = Pool()
        Key = pool.get('zl.pass.key')
        return hmac.new(Key.derived_secret(b'zl-gate-day'),
            date.isoformat().encode(), hashlib.sha256).digest()

    # ------------------------------------------------------------------
    # Uses: the engine's only writers of `uses_left` (gates call these)

    @classmethod
    def consume(cls, pass_id):
        """Spend one use of a usable pass in one conditional update: of
        two gates scanning it at once, the second waits for the row and
        finds nothing left.  Returns the uses left, or None if none was
        spent.  A pass the expiry cron marked expired during a gate's
        tolerance after the window is still usable: the gate decided."""
        cursor = Transaction().connection.cursor()
        p = cls.__table__()
        left = p.uses_left - 1
        returning = backend.name == 'postgresql'
        cursor.execute(*p.update(
                [p.uses_left, p.state, p.write_uid, p.write_date],
                [left, Case((left == 0, 'used'), else_='valid'),
                    Transaction().user, CurrentTimestamp()],
                where=(p.id == pass_id) & (p.uses_left > 0)
                & p.state.in_(['valid', 'expired']),
                # SQLite's RETURNING does not take the table's alias.
                returning=[p.uses_left] if returning else None))
        row = cursor.fetchone() if returning else None
        if cursor.rowcount != 1:
            return None
        forget(cls, [pass_id])
        if row is None:
            cursor.execute(*p.select(p.uses_left, where=p.id == pass_id))
            row = cursor.fetchone()
        return row[0]

    @classmethod
    def give_back_use(cls, pass_id):
        """Give one use back (an entry annulled: the turnstile did not
        turn); never beyond the uses issued, never to a revoked pass"""
        cursor = Transaction().connection.cursor()
        p = cls.__table__()
        cursor.execute(*p.update(
                [p.uses_left, p.state, p.write_uid, p.write_date],
                [p.uses_left + 1, 'valid', Transaction().user,
                    CurrentTimestamp()],
                where=(p.id == pass_id) & (p.uses_left < p.uses)
                & p.state.in_(['valid', 'used'])))
        forget(cls, [pass_id])
        return cursor.rowcount == 1

    @classmethod
    @without_check_access
    def revoked(cls, date_from):
        "Passes from date_from on that gates must refuse"
        return cls.search([
                ('date', '>=', date_from),
                ('state', 'in', list(REVOKED)),
                ])

    @classmethod
    def from_code(cls, code):
        """Return the pass a genuine code stands for, whatever its state,
        or raise passcode.InvalidCode for a forged, altered or unknown
        code (the gate reads the state to give its reason)."""
        pool = Pool()
        Key = pool.get('zl.pass.key')
        payload = passcode.verify(code, Key.public_keys())
        with without_check_access():
            passes = cls.search([('id', '=', payload.pass_id)])
        if (not passes or passes[0].ticket.id != payload.ticket_id
                or passes[0].slot.id != payload.slot_id
                or passes[0].date != payload.date):
            raise passcode.InvalidCode(code)
        return passes[0]

    @classmethod
    def verify(cls, code):
        """Return the pass of a genuine code that is not revoked; raise
        passcode.InvalidCode for a bad code, PassRevoked (with the state)
        for a cancelled, refunded or blocked pass."""
        pass_ = cls.from_code(code)
        if pass_.state in REVOKED:
            raise PassRevoked(pass_.state)
        return pass_


class PassRevoked(Exception):
    "A genuine code of a pass that may no longer be used"

    def __init__(self, state):
        super().__init__(state)
        self.state = state
