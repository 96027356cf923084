"""Waking the mail delivery as soon as a request's queued e-mail is committed.

``PORTAL_MAIL_DELIVERY`` says who delivers:

- ``"thread"``: the delivery thread of this very process (``delivery.poke_thread``), the
  single-process default of development and tests;
- ``"worker"``: a ``flask deliver-mail --loop`` process. On PostgreSQL it LISTENs on
  ``CHANNEL`` on a connection of its own and a request sends ``NOTIFY``; on SQLite it binds
  a Unix datagram socket whose path both sides derive from the database file
  (``socket_path``) and a request sends it one byte, without blocking.

A wake-up carries no data and may be lost (no worker running, a full queue): the worker also
polls every ``PORTAL_MAIL_POLL_INTERVAL`` seconds, so a lost one only delays mail. A wake is
sent after the transaction that queued the mail committed, so the worker it wakes sees it.
"""

import contextlib
import errno
import hashlib
import logging
import os
import select
import socket
import tempfile
import time
from urllib.parse import unquote, urlsplit

import psycopg2
from flask import Flask

from portal.db import db, is_sqlite

from .delivery import poke_thread

log = logging.getLogger(__name__)

CHANNEL = "portal_outbox"
SOCKET_KEY = "PORTAL_MAIL_WAKEUP_SOCKET"
_MAX_SOCKET_PATH = 100  # AF_UNIX paths stop at 107 bytes


def wake(app: Flask, *, poke=poke_thread, switch="PORTAL_MAIL_IMMEDIATE") -> str | None:
    """Tell whoever delivers this app's mail that some is due; which way was used, or None.
    The webhook delivery is woken the same way, with its own ``poke`` and ``switch``: the
    ``deliver-mail`` worker delivers both.

    Never raises and never waits on anyone: the request that calls it is done already."""
    if not app.config.get(switch, True):
        return None
    try:
        if app.config.get("PORTAL_MAIL_DELIVERY", "thread") == "thread":
            return "thread" if poke(app) is not False else None
        if is_sqlite():
            path = socket_path(app.config)
            if path is None:
                return None
            send_datagram(path)
            return "socket"
        _notify()
        return "notify"
    except Exception:  # a missed wake-up only waits for the next poll
        log.warning("could not wake the mail delivery; it sends on its next poll", exc_info=True)
        return None


def _notify() -> None:
    """NOTIFY on the request's own connection (outside a transaction it is sent at once)."""
    if db.is_closed():
        with db.connection_context():
            db.execute_sql(f"NOTIFY {CHANNEL}")
    else:
        db.execute_sql(f"NOTIFY {CHANNEL}")


def socket_path(config) -> str | None:
    """The SQLite wake-up socket: ``PORTAL_MAIL_WAKEUP_SOCKET``, or one in the temp folder
    named after the database file of ``PORTAL_DATABASE_URL``, so that the web app and the
    worker of one database agree on it; None when there is no file to name it after."""
    if config.get(SOCKET_KEY):
        return config[SOCKET_KEY]
    parts = urlsplit(config.get("PORTAL_DATABASE_URL") or "")
    database = unquote(parts.path)[1:]  # sqlite:///relative.db, sqlite:////absolute.db
    if parts.scheme != "sqlite" or database in ("", ":memory:"):
        return None
    digest = hashlib.sha256(os.path.realpath(database).encode()).hexdigest()[:20]
    name = f"portal-mail-{digest}.sock"
    path = os.path.join(tempfile.gettempdir(), name)
    if len(os.fsencode(path)) > _MAX_SOCKET_PATH:  # a long TMPDIR
        path = os.path.join("/tmp", name)  # noqa: S108
    return path


def send_datagram(path: str) -> bool:
    """One byte to ``path``, non-blocking: True if it was queued, False if nobody listens or
    the worker's queue is full (it is awake then anyway)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.setblocking(False)
        try:
            sock.sendto(b"!", path)
        except OSError:
            return False
    return True


class Listener:
    """What a worker sleeps on between passes: here only the timeout (nobody wakes it)."""

    description = "not woken by requests"

    def wait(self, timeout: float) -> bool:
        """Sleep until woken (True) or ``timeout`` seconds passed (False)."""
        time.sleep(timeout)
        return False

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class PostgresListener(Listener):
    """LISTEN on a dedicated psycopg2 connection (not from the pool, never in a transaction);
    a lost connection is opened again on the next wait."""

    description = f"woken by NOTIFY {CHANNEL}"

    def __init__(self, database):
        self._database, self._conn = database, None
        self._connect()

    def _connect(self) -> bool:
        try:
            conn = psycopg2.connect(dbname=self._database.database, **self._database.connect_params)
            conn.autocommit = True
            with conn.cursor() as cursor:
                cursor.execute(f"LISTEN {CHANNEL}")
        except psycopg2.Error as exc:
            log.warning("cannot LISTEN for mail wake-ups, polling meanwhile: %s", exc)
            return False
        self._conn = conn
        return True

    def wait(self, timeout: float) -> bool:
        if self._conn is None and not self._connect():
            return super().wait(timeout)
        try:
            if not select.select([self._conn], [], [], timeout)[0]:
                return False
            self._conn.poll()
            self._conn.notifies.clear()
            return True
        except (psycopg2.Error, OSError) as exc:
            log.warning("lost the LISTEN connection, opening another: %s", exc)
            self.close()
            return False

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class SocketListener(Listener):
    """The bound datagram socket; a stale file left by a worker that died is replaced."""

    def __init__(self, path: str):
        self.path, self.description = path, f"woken through {path}"
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            self._bind()
        except OSError:
            self._sock.close()
            raise
        self._sock.setblocking(False)

    def _bind(self) -> None:
        try:
            self._sock.bind(self.path)
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE or _in_use(self.path):
                raise
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path)  # left behind by a worker that was killed
            self._sock.bind(self.path)
        self._inode = os.stat(self.path).st_ino

    def wait(self, timeout: float) -> bool:
        if not select.select([self._sock], [], [], timeout)[0]:
            return False
        while True:  # one pass answers every wake-up queued so far
            try:
                self._sock.recv(16)
            except BlockingIOError:
                return True

    def close(self) -> None:
        if self._sock.fileno() == -1:
            return
        self._sock.close()
        with contextlib.suppress(OSError):
            if os.stat(self.path).st_ino == self._inode:  # not a newer worker's socket
                os.unlink(self.path)


def _in_use(path: str) -> bool:
    """Another live worker has bound ``path`` (a stale file refuses the connection)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(path)
        except (ConnectionRefusedError, FileNotFoundError):
            return False
    return True


def listen(config) -> Listener:
    """The wake-up channel a ``deliver-mail --loop`` worker of this database sleeps on."""
    if not is_sqlite():
        return PostgresListener(db.obj)
    path = socket_path(config)
    return Listener() if path is None else socket_listener(path)


def socket_listener(path: str) -> Listener:
    """The socket at ``path``; if another worker has it already, polling only."""
    try:
        return SocketListener(path)
    except OSError as exc:
        log.warning("mail wake-ups at %s go to another worker or nowhere (%s); polling", path, exc)
        return Listener()
