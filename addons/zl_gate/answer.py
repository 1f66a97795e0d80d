# This file is part of zhonglian-ticketing. See README.md for the licence.
"""The answer a gate shows for a decision (doc/gate.md "Redeem"): one
shape for the online redeem (facts.answer, messages from ir.message) and
the offline verifier (offline.py, the bundle's message templates).  No
Tryton import."""


def hhmm(value):
    return value.strftime('%H:%M') if value else ''


def variables(result, date='', session='', admits=1):
    "What the message templates may name"
    return {
        'valid_from': hhmm(result.valid_from),
        'valid_until': hhmm(result.valid_until),
        'date': date, 'session': session, 'admits': admits,
        }


def build(result, scan_id, text, pass_=None, offline=False, dry_run=False):
    """The answer dict of a decision.Decision; text(code) words the code of
    the screen's message and of each attention flag; pass_: the pass part
    (None for invalid and unknown)"""
    return {
        'result': result.result,
        'reason': result.reason,
        'message': text(result.kind if result.ok else result.reason),
        'kind': result.kind if result.ok else None,
        'scan_id': scan_id,
        'offline': offline,
        'dry_run': dry_run,
        'valid_from': (result.valid_from.isoformat()
            if result.valid_from else None),
        'valid_until': (result.valid_until.isoformat()
            if result.valid_until else None),
        'attention': bool(result.attention),
        'attention_flags': list(result.attention),
        'attention_text': '；'.join(
            text('attention_%s' % f) for f in result.attention),
        'pass': pass_,
        }
