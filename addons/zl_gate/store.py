# This file is part of zhonglian-ticketing. See README.md for the licence.
"""The offline gate's file: one SQLite database holding the last bundle
and the scans made since (stdlib only, no Tryton).

Nothing here holds an ID number: an ID-card scan is stored with its pass
id only, and a text that is not shaped like a pass code is not stored."""
import contextlib
import json
import sqlite3

_SCHEMA = """
CREATE TABLE IF NOT EXISTS bundle (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    data TEXT NOT NULL,
    received_at TEXT NOT NULL,
    received_mono REAL NOT NULL,
    generation INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS scan (
    scan_id TEXT PRIMARY KEY,
    pass INTEGER,
    code TEXT,
    scanned_at TEXT NOT NULL,
    result TEXT NOT NULL,
    reason TEXT,
    kind TEXT,
    consumed INTEGER NOT NULL DEFAULT 0,
    annulled INTEGER NOT NULL DEFAULT 0,
    uploaded INTEGER NOT NULL DEFAULT 0,
    -- the bundle generation current when it was uploaded: its use is in
    -- the server's counts only from the next bundle on
    uploaded_generation INTEGER,
    answer TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS scan_pass ON scan (pass, scanned_at);
CREATE INDEX IF NOT EXISTS scan_uploaded ON scan (uploaded, scanned_at);
"""


class Store:

    def __init__(self, path):
        # Autocommit: every change is one explicit transaction below.
        self.connection = sqlite3.connect(
            path, isolation_level=None, timeout=10)
        # WAL: a scan commits without rewriting a journal (about twice as
        # many recorded decisions per second here).  synchronous FULL
        # keeps every scan through a power cut: one lost would let a
        # single-use pass in twice at this gate (doc/benchmarks.md).
        self.connection.execute('PRAGMA journal_mode=WAL')
        self.connection.execute('PRAGMA synchronous=FULL')
        self.connection.executescript(_SCHEMA)

    def close(self):
        self.connection.close()

    @contextlib.contextmanager
    def transaction(self):
        """Write lock taken at once: two processes of one gate never both
        read the same uses left and both spend them"""
        cursor = self.connection.cursor()
        cursor.execute('BEGIN IMMEDIATE')
        try:
            yield cursor
        except BaseException:
            cursor.execute('ROLLBACK')
            raise
        cursor.execute('COMMIT')

    # The bundle --------------------------------------------------------

    def generation(self):
        row = self.connection.execute(
            'SELECT generation FROM bundle WHERE id = 1').fetchone()
        return row[0] if row else 0

    def bundle(self):
        "(bundle dict, received_at iso, received_mono, generation) or None"
        row = self.connection.execute(
            'SELECT data, received_at, received_mono, generation '
            'FROM bundle WHERE id = 1').fetchone()
        if row is None:
            return None
        return (json.loads(row[0]),) + tuple(row[1:])

    def put_bundle(self, cursor, data, received_at, received_mono):
        cursor.execute(
            'INSERT INTO bundle (id, data, received_at, received_mono, '
            'generation) VALUES (1, ?, ?, ?, 1) '
            'ON CONFLICT (id) DO UPDATE SET data = excluded.data, '
            'received_at = excluded.received_at, '
            'received_mono = excluded.received_mono, '
            'generation = bundle.generation + 1',
            (json.dumps(data, ensure_ascii=False), received_at,
                received_mono))

    def prune(self, cursor, before):
        "Forget uploaded scans made before the date (iso) before"
        cursor.execute(
            'DELETE FROM scan WHERE uploaded = 1 AND scanned_at < ?',
            (before,))

    # The scans ---------------------------------------------------------

    def answer(self, scan_id, cursor=None):
        cursor = cursor or self.connection
        row = cursor.execute(
            'SELECT answer FROM scan WHERE scan_id = ?',
            (scan_id,)).fetchone()
        return json.loads(row[0]) if row else None

    def add_scan(self, cursor, answer, scanned_at, pass_id, code,
            consumed):
        cursor.execute(
            'INSERT INTO scan (scan_id, pass, code, scanned_at, result, '
            'reason, kind, consumed, answer) '
            'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
            (answer['scan_id'], pass_id, code, scanned_at, answer['result'],
                answer['reason'], answer['kind'], int(consumed),
                json.dumps(answer, ensure_ascii=False)))

    def spent(self, cursor, pass_id, generation):
        """Uses the gate spent on pass_id that the bundle does not know
        of yet: not annulled, and not uploaded before this bundle came"""
        return cursor.execute(
            'SELECT COUNT(*) FROM scan WHERE pass = ? AND consumed = 1 '
            'AND annulled = 0 AND (uploaded = 0 '
            'OR uploaded_generation >= ?)',
            (pass_id, generation)).fetchone()[0]

    def history(self, cursor, pass_id):
        """(last entry that spent a use, ok re-scans after it) as iso
        strings and a count, from this gate's scans"""
        last, = cursor.execute(
            'SELECT MAX(scanned_at) FROM scan WHERE pass = ? '
            'AND consumed = 1 AND annulled = 0', (pass_id,)).fetchone()
        if last is None:
            return None, 0
        rescans, = cursor.execute(
            "SELECT COUNT(*) FROM scan WHERE pass = ? AND kind = 'rescan' "
            "AND result = 'ok' AND scanned_at > ?",
            (pass_id, last)).fetchone()
        return last, rescans

    def annul(self, scan_id):
        """Annul a consumed ok scan; an uploaded one is queued again so
        that the server learns of it too"""
        with self.transaction() as cursor:
            cursor.execute(
                'UPDATE scan SET annulled = 1, uploaded = 0, '
                'uploaded_generation = NULL WHERE scan_id = ? '
                "AND result = 'ok' AND consumed = 1 AND annulled = 0",
                (scan_id,))
            return cursor.rowcount == 1

    def pending(self):
        rows = self.connection.execute(
            'SELECT scan_id, code, pass, scanned_at, result, reason, kind, '
            'annulled FROM scan WHERE uploaded = 0 '
            'ORDER BY scanned_at, rowid')
        return [{
                'scan_id': scan_id,
                'code': code,
                'pass': pass_id,
                'scanned_at': scanned_at[:19],  # whole seconds
                'result': result,
                'reason': reason,
                'kind': kind,
                'annulled': bool(annulled),
                } for (scan_id, code, pass_id, scanned_at, result, reason,
                kind, annulled) in rows]

    def mark_uploaded(self, scan_ids):
        with self.transaction() as cursor:
            generation = self.generation()
            cursor.executemany(
                'UPDATE scan SET uploaded = 1, uploaded_generation = ? '
                'WHERE scan_id = ? AND uploaded = 0',
                [(generation, i) for i in scan_ids])
