"""db.Compiled: a query built once per process, run with fresh values every time; on
PostgreSQL prepared once per connection, and prepared again when the server forgot it."""

import pytest
from builders import make_customer

from portal.db import Compiled, db, is_sqlite
from portal.models import Customer

MARK = "\x00name\x00"


def _by_first_name():
    return Compiled(
        lambda name: Customer.select().where(Customer.first_name == name).order_by(Customer.id),
        name=MARK,
    )


def test_each_run_gets_its_own_values(app, merchant):
    make_customer(merchant, "Ada")
    make_customer(merchant, "Grace")
    query = _by_first_name()
    with app.app_context(), db.connection_context():
        assert [c.first_name for c in query.rows(name="Ada")] == ["Ada"]
        assert [c.first_name for c in query.rows(name="Grace")] == ["Grace"]
        assert list(query.rows(name="Nobody")) == []


def test_a_marker_the_query_does_not_use_is_refused(app):
    query = Compiled(lambda name: Customer.select(), name=MARK)
    with app.app_context(), db.connection_context(), pytest.raises(ValueError):
        list(query.rows(name="Ada"))


def test_a_statement_the_server_forgot_is_prepared_again(app, merchant):
    """PostgreSQL forgets prepared statements on DISCARD ALL (poolers issue it); SQLite has
    none to forget, and the same calls must work there too."""
    make_customer(merchant, "Ada")
    query = _by_first_name()
    with app.app_context(), db.connection_context():
        assert len(list(query.rows(name="Ada"))) == 1
        if not is_sqlite():
            db.execute_sql("DISCARD ALL")
        assert len(list(query.rows(name="Ada"))) == 1
        assert len(list(query.rows(name="Ada"))) == 1
