"""Which workers live, told by PostgreSQL: a worker's advisory lock goes with its connection."""

import databases
import pytest

from opencx_bridge import membership
from opencx_bridge.extensions import db

postgresql_only = pytest.mark.skipif(not databases.ON_POSTGRESQL,
                                     reason="membership is how workers share PostgreSQL")


@postgresql_only
def test_a_member_lives_until_it_leaves(app):
    with app.app_context():
        engine = db.engine
        first, second = membership.Member(engine, "a:1:x"), membership.Member(engine, "b:2:y")
        first.join()
        second.join()
        first.join()  # a heartbeat: still the same lock
        assert membership.gone(engine, {"a:1:x", "b:2:y", "c:3:z"}) == {"c:3:z"}
        first.leave()
        assert membership.gone(engine, {"a:1:x", "b:2:y"}) == {"a:1:x"}
        second.leave()


@postgresql_only
def test_a_lost_connection_is_a_gone_worker_until_it_joins_again(app):
    with app.app_context():
        engine = db.engine
        member = membership.Member(engine, "a:1:x")
        member.join()
        member._connection.invalidate()  # as when the process dies or the server restarts
        assert membership.gone(engine, {"a:1:x"}) == {"a:1:x"}
        member.join()
        assert membership.gone(engine, {"a:1:x"}) == set()
        member.leave()


def test_owner_keys_are_stable_32_bit_numbers():
    key = membership.owner_key("host:12:abcdef01")
    assert key == membership.owner_key("host:12:abcdef01")
    assert -2**31 <= key < 2**31
    assert key != membership.owner_key("host:12:abcdef02")
