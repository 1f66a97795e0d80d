# This file is part of zhonglian-ticketing. See README.md for the licence.
"""Who a booking is for: the visitors a client typed (checked and
normalised: the one rule, also for a visitor's saved companions), the
companions the server looked up, the contact and the group."""
import datetime as dt

from . import identity
from .engine import refusal, text

MAX_VISITORS = 100


class BookingPeople:
    __slots__ = ()

    @classmethod
    def check_visitor(cls, item):
        """A visitor as the client sent it ({name, id_type, id_number,
        phone}), checked and normalised, or the refusal's code: the one
        rule for bookings and saved companions"""
        if not isinstance(item, dict):
            raise refusal('invalid_request')
        id_type = item.get('id_type') or 'resident_id'
        if not isinstance(id_type, str):
            raise refusal('invalid_request')
        if id_type not in dict(identity.ID_TYPES):
            raise refusal('invalid_id_number')
        number = identity.normalize_id(
            id_type, text(item.get('id_number'), required=True))
        if not identity.is_valid_id(id_type, number):
            raise refusal('invalid_id_number')
        phone = text(item.get('phone'))
        if phone:
            if not identity.is_valid_mobile(phone):
                raise refusal('invalid_phone')
            phone = identity.normalize_mobile(phone)
        return {
            'name': text(item.get('name'), required=True),
            'id_type': id_type,
            'id_number': number,
            'phone': phone,
            # A resident ID says it; other documents need it given (the
            # visit policy's minors rules, a gate's child flag).
            'birth_date': identity.birth_date(id_type, number)
            or cls._birth_date(item.get('birth_date')),
            }

    @staticmethod
    def _birth_date(value):
        "An optional birth date as the client sent it (YYYY-MM-DD)"
        if value is None:
            return None
        if not isinstance(value, str) or len(value) != 10:
            raise refusal('invalid_request')
        try:
            birth = dt.date.fromisoformat(value)
        except ValueError:
            raise refusal('invalid_request')
        if not dt.date(1900, 1, 1) <= birth <= dt.date.today():
            raise refusal('invalid_request')
        return birth

    @classmethod
    def _check_people(cls, ticket, request, companions):
        raw = request.get('visitors') or []
        if not isinstance(raw, list) or len(raw) > MAX_VISITORS:
            raise refusal('invalid_request')
        visitors = []
        for item in raw:
            if isinstance(item, dict) and 'companion' in item:
                # A saved companion of the account: the server looked it
                # up; its number is not known, its digest is.
                companion = companions.get(item['companion'])
                if (companion is None or isinstance(item['companion'], bool)
                        or len(item) != 1):
                    raise refusal('invalid_request')
                visitors.append(dict(
                        {'birth_date': None}, **companion, id_number=None))
            else:
                visitors.append(cls.check_visitor(item))
        contact = request.get('contact') or {}
        if not isinstance(contact, dict):
            raise refusal('invalid_request')
        contact_phone = text(contact.get('phone'))
        if contact_phone:
            if not identity.is_valid_mobile(contact_phone):
                raise refusal('invalid_phone')
            contact_phone = identity.normalize_mobile(contact_phone)
        contact = {'name': text(contact.get('name')), 'phone': contact_phone}

        group = None
        if ticket['kind'] == 'group':
            raw_group = request.get('group') or {}
            if not isinstance(raw_group, dict):
                raise refusal('invalid_request')
            size = raw_group.get('size')
            minimum, maximum = ticket['group_min'], ticket['group_max']
            if (isinstance(size, bool) or not isinstance(size, int)
                    or not minimum <= size <= maximum):
                raise refusal('group_size', minimum=minimum, maximum=maximum)
            group = {
                'name': text(raw_group.get('name'), required=True),
                'leader': text(raw_group.get('leader'), required=True),
                'size': size,
                }
            if not contact_phone:
                # The site calls the group's contact: said as missing,
                # not as a malformed number.
                raise refusal('contact_required')
        elif not visitors:
            raise refusal('invalid_request')
        return visitors, contact, group
