# This file is part of zhonglian-ticketing. See README.md for the licence.
"""The printed pass (纸质电子票): what the ticket window hands a visitor
without a phone, one A6 page per pass."""
import base64

from trytond.pool import Pool
from trytond.report import Report
from trytond.report.report import REPORT_NAME_MAX_LENGTH
from trytond.transaction import Transaction, check_access

from . import identity


class PassReport(Report):
    "Printable pass, from a pass or from a booking (all its passes)"
    __name__ = 'zl.pass.ticket'

    @classmethod
    def execute(cls, ids, data):
        pool = Pool()
        ActionReport = pool.get('ir.action.report')
        ModelData = pool.get('ir.model.data')
        Pass = pool.get('zl.pass')
        # Both actions share this report: a caller that names no action
        # prints passes, never booking ids read as pass ids.
        if not data.get('action_id'):
            data = dict(data, action_id=ModelData.get_id(
                    'zl_reservation', 'report_pass'))
        ids = list(map(int, ids))
        oext, content, direct_print, name = super().execute(ids, data)
        # Name the file after the bookings, not each pass ("(57)-(58)…"),
        # once super() has checked the caller may read them.
        action = ActionReport(data['action_id'])
        if Transaction().context.get('with_rec_name', True):
            if action.model == 'zl.booking':
                bookings = pool.get('zl.booking').browse(ids)
            else:
                bookings = [p.booking for p in Pass.browse(ids)]
            numbers = list(dict.fromkeys(
                    b.number for b in bookings if b.number))
            name = '-'.join([action.name[:REPORT_NAME_MAX_LENGTH]]
                + numbers[:3])
            if numbers[3:]:  # as Report.execute counts what it leaves out
                name += '__%d' % len(numbers[3:])
        return oext, content, direct_print, name

    @classmethod
    def _get_records(cls, ids, model, data):
        if model == 'zl.booking':
            # Report.check_access checked the bookings only: find their
            # passes with the checks of reading passes (model access and
            # data scope), as the 电子票 list would.
            Pass = Pool().get('zl.pass')
            with check_access():
                passes = Pass.search(
                    [('booking', 'in', ids)],
                    order=[('booking', 'ASC'), ('id', 'ASC')])
            ids, model = [p.id for p in passes], Pass.__name__
        return super()._get_records(ids, model, data)

    @classmethod
    def get_context(cls, records, header, data):
        context = super().get_context(records, header, data)
        context['qr_data_uri'] = cls.qr_data_uri
        context['masked_id'] = cls.masked_id
        context['format_time'] = cls.format_time
        return context

    @staticmethod
    def qr_data_uri(pass_):
        "The pass's QR code embedded in the page: printing fetches nothing"
        return 'data:image/png;base64,' + base64.b64encode(
            pass_.qr_png()).decode()

    @staticmethod
    def masked_id(visitor):
        # id_masked is stored masked already; masking again keeps a paper
        # that leaves the building from ever showing more, whatever a
        # future import writes there.
        return identity.mask_id(visitor.id_masked) if visitor else ''

    @staticmethod
    def format_time(value):
        return value.strftime('%H:%M') if value else ''
