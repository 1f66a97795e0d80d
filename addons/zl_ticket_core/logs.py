# This file is part of zhonglian-ticketing. See README.md for the licence.
"""Redaction of every log record of the process.

Installed when the module is imported (__init__.py), so before the
server handles a request: a LogRecord factory chained on the previous
one rewrites the message, the exception text and the stack of each record
whatever its logger (trytond's dispatcher, gunicorn, libraries) and
whatever handler formats it later.

Besides ID numbers (redaction.py), it hides the name of a failed login
that is no account: people type their password into the login field, and
trytond.security logs the name tried ("login failed for '%s'").
res.user.get_login names it through hide_failed_login().

No Tryton import: it works before any pool exists.
"""
import contextvars
import logging
import traceback

from .redaction import has_id_like, redact

# (login, replacement) of the last failed login without account in this
# thread (sync workers and trytond's threaded server alike).
_failed_login = contextvars.ContextVar('zl_failed_login', default=None)


def hide_failed_login(login, replacement):
    "Log the next 'login failed' of login with replacement instead"
    _failed_login.set((login, replacement) if login else None)


def _hide_login(record):
    hidden = _failed_login.get()
    if (hidden and record.name == 'trytond.security'
            and isinstance(record.args, tuple) and record.args
            and record.args[0] == hidden[0]
            and str(record.msg).startswith('login failed')):
        record.args = (hidden[1],) + record.args[1:]
        _failed_login.set(None)


def redact_record(record):
    "Rewrite record in place so that no ID-like number remains in it"
    _hide_login(record)
    try:
        message = record.getMessage()
    except Exception:
        # Arguments that do not fit the message: logging would print both
        # in its error report; print them, redacted, as the message.
        record.msg = redact('%r %r' % (record.msg, record.args))
        record.args = ()
    else:
        if has_id_like(message):
            record.msg, record.args = redact(message), ()
    if record.exc_info and not record.exc_text:
        text = ''.join(traceback.format_exception(*record.exc_info))
        record.exc_text = redact(text.rstrip('\n'))
    elif record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    return record


def install():
    "Chain the redacting factory on the current one, once per process"
    previous = logging.getLogRecordFactory()
    if getattr(previous, 'zl_redacting', False):
        return

    def factory(*args, **kwargs):
        return redact_record(previous(*args, **kwargs))
    factory.zl_redacting = True
    logging.setLogRecordFactory(factory)
