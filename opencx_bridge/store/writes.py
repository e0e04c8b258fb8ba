"""The write funnel's rule: a function that changes state commits what it did, or rolls all
of it back when it fails (an error on a form: nothing half-saved).

Views and commands call such functions and never commit themselves (checked by
tests/test_architecture.py). The worker's transactions are its steps: engine/step.py,
outbox/delivery.py and the scheduler's jobs, each one transaction per unit of work.
"""

from __future__ import annotations

import functools

from opencx_bridge.extensions import db


def commits(function):
    """Commit after `function` returns; roll back (and re-raise) when it raises."""

    @functools.wraps(function)
    def committed(*args, **kwargs):
        try:
            result = function(*args, **kwargs)
        except BaseException:
            db.session.rollback()
            raise
        db.session.commit()
        return result

    return committed
