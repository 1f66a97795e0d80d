# This file is part of zhonglian-ticketing. See README.md for the licence.
"""Check-in records (检票记录): every scan, admitted or not."""
import json

from trytond.model import Index, ModelSQL, ModelView, Unique, fields
from trytond.modules.zl_reservation.engine import EngineOwnedMixin
from trytond.transaction import Transaction

from .decision import REASONS

RESULTS = [
    ('ok', "Admitted"),
    ('rejected', "Refused"),
    ]
KINDS = [
    (None, ""),
    ('entry', "Entry"),
    ('rescan', "Re-scan"),
    ('exit', "Exit"),
    ]


REASON_LABELS = [
    ('invalid', "Invalid code"),
    ('unknown', "Unknown e-ticket"),
    ('cancelled', "Cancelled"),
    ('refunded', "Refunded"),
    ('blocked', "Blocked"),
    ('wrong_gate', "Not accepted at this gate"),
    ('wrong_date', "Wrong date"),
    ('too_early', "Too early"),
    ('too_late', "Too late"),
    ('expired', "Expired"),
    ('already_used', "Already used"),
    ('rescan_too_soon', "Scanned again too soon"),
    ]
# One label per reason, in the decision's order.
assert tuple(c for c, _ in REASON_LABELS) == REASONS


class Checkin(EngineOwnedMixin, ModelSQL, ModelView):
    "A scan at a gate; written by the gate methods only"
    __name__ = 'zl.gate.checkin'
    __string__ = "Check-in"

    device = fields.Many2One(
        'zl.gate.device', "Gate", required=True, readonly=True,
        ondelete='RESTRICT')
    pass_ = fields.Many2One(
        'zl.pass', "E-Ticket", readonly=True, ondelete='RESTRICT')
    ticket = fields.Many2One(
        'zl.ticket', "Ticket", readonly=True, ondelete='RESTRICT')
    slot = fields.Many2One(
        'zl.reservation.slot', "Session", readonly=True,
        ondelete='RESTRICT')
    date = fields.Date(
        "Date", required=True, readonly=True, help="The site's date.")
    scanned_at = fields.DateTime("Scanned At", required=True, readonly=True)
    kind = fields.Selection(KINDS, "Kind", readonly=True)
    result = fields.Selection(RESULTS, "Result", required=True, readonly=True)
    reason = fields.Selection(
        [(None, "")] + REASON_LABELS, "Reason", readonly=True, sort=False)
    reason_string = reason.translated('reason')
    admits = fields.Integer(
        "People", readonly=True,
        help="People who passed (a group pass admits the group).")
    consumed = fields.Boolean("Use Spent", readonly=True)
    scan_id = fields.Char("Scan ID", required=True, readonly=True)
    mode = fields.Selection([
            ('online', "Online"),
            ('offline', "Offline"),
            ], "Mode", required=True, readonly=True)
    annulled = fields.Boolean(
        "Annulled", readonly=True,
        help="The turnstile did not turn: the use was given back.")
    conflict = fields.Boolean(
        "Conflict", readonly=True,
        help="Admitted offline although the pass was already used "
        "elsewhere.")
    # The first answer, returned again for the same scan id.
    answer = fields.Text("Answer", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('device_scan_uniq', Unique(t, t.device, t.scan_id),
                'zl_gate.msg_checkin_scan_unique'),
            ]
        cls._sql_indexes.update({
                Index(t, (t.pass_, Index.Equality()),
                    (t.scanned_at, Index.Range())),
                Index(t, (t.date, Index.Range()),
                    (t.device, Index.Equality())),
                # The entry board counts per session.
                Index(t, (t.slot, Index.Equality())),
                })
        cls._order = [('scanned_at', 'DESC'), ('id', 'DESC')]

    @classmethod
    def first_answer(cls, device_id, scan_id):
        "The answer the device's scan scan_id got, or None"
        t = cls.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*t.select(t.answer,
                where=(t.device == device_id) & (t.scan_id == scan_id),
                limit=1))
        row = cursor.fetchone()
        return json.loads(row[0]) if row else None

    def get_rec_name(self, name):
        return '%s %s' % (self.device.rec_name, self.scan_id)

