"""Database binding: one deferred Peewee database, SQLite or PostgreSQL from a URL."""

import contextlib
import itertools
import weakref
from contextlib import contextmanager
from urllib.parse import unquote, urlsplit

from peewee import DatabaseError, DatabaseProxy, SqliteDatabase, fn
from playhouse.pool import PooledPostgresqlDatabase

db = DatabaseProxy()

# Order matters: busy_timeout must be set before switching to WAL; FULL sync makes an
# acknowledged commit survive power loss, which NORMAL does not promise in WAL mode.
SQLITE_PRAGMAS = (
    ("busy_timeout", 10000),
    ("journal_mode", "wal"),
    ("synchronous", "full"),
    ("foreign_keys", 1),
)


def make_database(url: str):
    """Create a Peewee database object for a sqlite:/// or postgresql:// URL."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        # sqlite:///relative.db and sqlite:////absolute/path.db, as SQLAlchemy spells them.
        path = unquote(parts.path)[1:]
        return SqliteDatabase(path or ":memory:", pragmas=SQLITE_PRAGMAS, check_same_thread=False)
    if parts.scheme in ("postgres", "postgresql"):
        return PooledPostgresqlDatabase(
            unquote(parts.path.lstrip("/")),
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 5432,
            user=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            max_connections=32,
            stale_timeout=300,
            timeout=10,
        )
    raise ValueError(f"unsupported database URL scheme: {parts.scheme!r}")


_databases: dict[str, object] = {}


def bind(url: str):
    """Point the shared proxy at the database named by ``url`` (one object, one pool, per URL)."""
    if url not in _databases:
        _databases[url] = make_database(url)
    db.initialize(_databases[url])
    return _databases[url]


def is_sqlite() -> bool:
    return isinstance(db.obj, SqliteDatabase)


def string_agg(expression, separator: str = ","):
    """The values of a group joined into one string (no order promised): SQLite spells it
    group_concat, PostgreSQL string_agg."""
    if is_sqlite():
        return fn.GROUP_CONCAT(expression, separator)
    return fn.STRING_AGG(expression, separator)


@contextmanager
def write_transaction():
    """A transaction that takes its write lock up front (SQLite) so read-then-write is safe."""
    if is_sqlite() and not db.in_transaction():
        with db.atomic("IMMEDIATE") as txn:
            yield txn
    else:
        with db.atomic() as txn:
            yield txn


def end_request() -> None:
    """After every request. A SQLite connection stays open for the next request of this
    worker thread (its pragmas ran once), never with a transaction left open in it; a
    PostgreSQL connection goes back to the pool."""
    if db.is_closed():
        return
    if is_sqlite():
        if db.connection().in_transaction:  # a BEGIN that no atomic block closed
            db.connection().rollback()
        return
    db.close()


def locked(query):
    """Add SELECT … FOR UPDATE on PostgreSQL; SQLite already holds the write lock."""
    return query if is_sqlite() else query.for_update()


# PostgreSQL's "prepared statement does not exist" and "cached plan must not change result
# type" (SQLSTATE 26000, 0A000).
STALE_PREPARED = ("26000", "0A000")


def _already_initialized() -> None:
    pass


class Compiled:
    """A query built and compiled once per process and database kind, then run with fresh
    values: peewee takes milliseconds to build the SQL of a query with many subqueries
    (~3 ms for the signed-in shell) and SQLite well under a tenth of that to run it.

    ``build(**markers)`` returns the query; each marker is a value that appears in its
    parameters only where that argument goes (a datetime or string no real value equals).
    """

    _names = itertools.count(1)

    def __init__(self, build, **markers):
        self._name = f"portal_compiled_{next(self._names)}"
        # PostgreSQL connections that hold this statement prepared: planning the shell's
        # statement takes PostgreSQL longer than running it, so it is planned once each.
        self._prepared_on: weakref.WeakSet = weakref.WeakSet()
        self._build = build
        self._markers = markers
        self._compiled: dict[type, tuple] = {}
        # What peewee's cursor wrapper works out from the first result (which column goes to
        # which model and field): the same for every run of the same SQL, so worked out once.
        self._shapes: dict[type, dict] = {}

    def _entry(self):
        kind = type(db.obj)
        entry = self._compiled.get(kind)
        if entry is None:
            query = self._build(**self._markers)
            sql, params = query.sql()
            slots = {}
            for name, marker in self._markers.items():
                slots[name] = [
                    i for i, p in enumerate(params) if type(p) is type(marker) and p == marker
                ]
                if not slots[name]:
                    raise ValueError(f"the query does not use its {name!r} argument")
            entry = self._compiled[kind] = (query, sql, tuple(params), slots)
        return entry

    def _execute(self, values: dict):
        query, sql, params, slots = self._entry()
        params = list(params)
        for name, value in values.items():
            for index in slots[name]:
                params[index] = value
        if is_sqlite() or "%%" in sql:
            return query, db.execute_sql(sql, params)
        try:
            return query, self._execute_prepared(sql, params)
        except DatabaseError as exc:
            # The statement is gone (DISCARD ALL, a pooler) or cannot be reused (a column's
            # type changed): prepare it again. Inside a transaction the error has aborted it,
            # so only a statement of its own is retried; the next request prepares anew.
            self._prepared_on.discard(db.connection())
            code = getattr(exc.__cause__ or exc.__context__, "pgcode", None)  # psycopg2's
            if code not in STALE_PREPARED or db.in_transaction():
                raise
            with contextlib.suppress(DatabaseError):  # still there when only its plan is stale
                db.execute_sql(f"DEALLOCATE {self._name}")
            return query, self._execute_prepared(sql, params)

    def _execute_prepared(self, sql: str, params: list):
        connection = db.connection()
        if connection not in self._prepared_on:
            numbered = iter(range(1, len(params) + 1))
            statement = "".join(
                part + (f"${next(numbered)}" if i < len(params) else "")
                for i, part in enumerate(sql.split("%s"))
            )
            # Not transactional: a rollback of the surrounding transaction keeps it.
            db.execute_sql(f"PREPARE {self._name} AS {statement}")
            self._prepared_on.add(connection)
        arguments = f" ({', '.join(['%s'] * len(params))})" if params else ""
        return db.execute_sql(f"EXECUTE {self._name}{arguments}", params)

    def rows(self, **values):
        """The rows as the query would return them (model instances, joins attached)."""
        query, cursor = self._execute(values)
        # The cursor wrapper is how peewee turns a cursor into model instances.
        wrapper = query._get_cursor_wrapper(cursor)
        shape = self._shapes.get(type(db.obj))
        if shape is None:
            before = set(vars(wrapper))
            original = wrapper.initialize

            def remember():
                original()
                state = vars(wrapper)
                self._shapes[type(db.obj)] = {k: state[k] for k in set(state) - before}

            wrapper.initialize = remember
        else:
            vars(wrapper).update(shape)
            wrapper.initialize = _already_initialized
        return wrapper

    def scalar(self, **values):
        """The first column of the first row."""
        _query, cursor = self._execute(values)
        row = cursor.fetchone()
        return None if row is None else row[0]
