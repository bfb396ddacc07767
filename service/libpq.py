"""One SELECT on PostgreSQL through libpq itself (psycopg's ``pq`` layer), for the hot
reads of ``db.Database.read``, or several from one snapshot in one round trip, for
``db.Database.read_together``: prepared once per connection, parameters in text, and
the results converted by psycopg's own loaders (its Transformer, in C), as its cursor
would convert them. The cursor does the same through several layers of Python; this
path costs a worker about 60 us of CPU per list of 60 annotations against 100 us.
What it cannot do (a parameter of a type it does not send, a connection inside a
transaction, a server without prepared statements) it leaves to the cursor.
"""

from __future__ import annotations

import hashlib
import re
import select
import uuid
from collections.abc import Mapping, MutableMapping, Sequence
from typing import Any, cast

import psycopg
from psycopg import pq
from psycopg.adapt import Transformer

_PLACEHOLDER = re.compile(r"%\((\w+)\)s")
# Prepared statements a connection keeps before they are all let go.
PER_CONNECTION = 512
NO_SUCH_STATEMENT = b"26000"  # invalid_sql_statement_name
DUPLICATE_STATEMENT = b"42P05"  # duplicate_prepared_statement


class Statement:
    """A statement compiled for psycopg (``%(name)s`` parameters), for libpq."""

    def __init__(self, sql: str) -> None:
        names: list[str] = []

        def number(match: re.Match[str]) -> str:
            if match.group(1) not in names:
                names.append(match.group(1))
            return f"${names.index(match.group(1)) + 1}"

        self.sql = _PLACEHOLDER.sub(number, sql).replace("%%", "%").encode()
        self.names = tuple(names)
        # The same text, the same name, on every connection and in every worker.
        self.name = b"store_" + hashlib.sha256(self.sql).hexdigest()[:24].encode()


def _encode(value: Any) -> bytes | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return b"t" if value else b"f"
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, int | uuid.UUID):
        return str(value).encode()
    if isinstance(value, float):
        return repr(value).encode()
    raise TypeError(type(value))


def run(
    driver: psycopg.Connection[Any],
    statement: Statement,
    values: Mapping[str, Any],
    prepared: MutableMapping[Any, Any],
) -> list[tuple[Any, ...]] | None:
    """The rows of ``statement``, or None where this path cannot run it. ``prepared`` is
    kept with the connection: the names of the statements prepared on it."""
    pgconn = driver.pgconn
    if driver.prepare_threshold is None or (
        pgconn.transaction_status != pq.TransactionStatus.IDLE
    ):  # a pooler that keeps no prepared statements; or a transaction in course
        return None
    try:
        parameters = [_encode(values[name]) for name in statement.names]
    except TypeError:
        return None
    result = _execute(driver, statement, parameters, prepared)
    if result.error_field(pq.DiagnosticField.SQLSTATE) == NO_SUCH_STATEMENT:
        # Gone from the server: psycopg lets go of every prepared statement of its
        # connection (DEALLOCATE ALL) when it rolls a transaction back, ours too.
        prepared.clear()
        result = _execute(driver, statement, parameters, prepared)
    return _rows(driver, _check(driver, result))


def run_together(
    driver: psycopg.Connection[Any],
    reads: Sequence[tuple[Statement, Mapping[str, Any]]],
    prepared: MutableMapping[Any, Any],
) -> list[list[tuple[Any, ...]]] | None:
    """The rows of each statement, all read from one snapshot (a REPEATABLE READ, READ
    ONLY transaction) in one round trip (libpq's pipeline mode), or None where this
    path cannot run them; as ``run`` otherwise."""
    pgconn = driver.pgconn
    if driver.prepare_threshold is None or (pgconn.transaction_status != pq.TransactionStatus.IDLE):
        return None
    try:
        parameters = [[_encode(values[name]) for name in st.names] for st, values in reads]
    except TypeError:
        return None
    results, failed = _pipeline(driver, reads, parameters, prepared)
    if failed is not None and (
        failed[1].error_field(pq.DiagnosticField.SQLSTATE) == NO_SUCH_STATEMENT
    ):
        prepared.clear()  # as in run
        results, failed = _pipeline(driver, reads, parameters, prepared)
    if failed is not None:
        try:
            _check(driver, failed[1])
        except psycopg.Error as error:
            setattr(error, FAILED_STATEMENT, failed[0])
            raise
    return [_rows(driver, result) for result in results]


# Set on an error of run_together: the index of the statement that failed.
FAILED_STATEMENT = "failed_statement"


BEGIN_SNAPSHOT = b"BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"


def _pipeline(
    driver: psycopg.Connection[Any],
    reads: Sequence[tuple[Statement, Mapping[str, Any]]],
    parameters: list[list[bytes | None]],
    prepared: MutableMapping[Any, Any],
) -> tuple[list[pq.abc.PGresult], tuple[int, pq.abc.PGresult] | None]:
    """Each statement's result, the statements sent at once between BEGIN and COMMIT;
    and, if one failed, its index and error (the server skips what follows)."""
    for statement, _ in reads:
        _prepare(driver, statement, prepared)
    pgconn = driver.pgconn
    pgconn.enter_pipeline_mode()
    try:
        pgconn.send_query_params(BEGIN_SNAPSHOT, None)
        for (statement, _), values in zip(reads, parameters, strict=True):
            pgconn.send_query_prepared(statement.name, cast(Any, values))
        pgconn.send_query_params(b"COMMIT", None)
        pgconn.pipeline_sync()
        results = [_next_result(pgconn) for _ in range(len(reads) + 2)]
        while _next_result(pgconn).status != pq.ExecStatus.PIPELINE_SYNC:
            pass
        pgconn.exit_pipeline_mode()
    except BaseException:
        driver.close()  # in whatever state the pipeline left it: not to be used again
        raise
    errors = [at for at, r in enumerate(results) if r.status == pq.ExecStatus.FATAL_ERROR]
    if errors and pgconn.transaction_status != pq.TransactionStatus.IDLE:  # BEGIN had run
        _check(driver, pgconn.exec_(b"ROLLBACK"))
    if not errors:
        return results[1:-1], None
    # Named by the read it came from, or the nearest one (of a BEGIN or COMMIT).
    return results[1:-1], (min(max(errors[0] - 1, 0), len(reads) - 1), results[errors[0]])


def _next_result(pgconn: pq.abc.PGconn) -> pq.abc.PGresult:
    """The next result of a pipeline, waited for without holding the GIL (libpq's own
    wait in PQgetResult would hold it)."""
    while pgconn.flush():
        _wait(pgconn, select.POLLOUT)
    while pgconn.is_busy():
        _wait(pgconn, select.POLLIN)
        pgconn.consume_input()
    result = pgconn.get_result()
    if result is None:  # between one statement's results and the next's
        return _next_result(pgconn)
    return result


def _wait(pgconn: pq.abc.PGconn, event: int) -> None:
    poll = select.poll()
    poll.register(pgconn.socket, event)
    poll.poll()


def _rows(driver: psycopg.Connection[Any], result: pq.abc.PGresult) -> list[tuple[Any, ...]]:
    """The rows of a statement's result, each value converted as the connection's
    cursor would (its loaders: orjson for JSON, say), by psycopg's C code."""
    transformer = Transformer.from_context(driver)
    transformer.set_pgresult(result)
    return transformer.load_rows(0, result.ntuples, tuple)


def _execute(
    driver: psycopg.Connection[Any],
    statement: Statement,
    parameters: list[bytes | None],
    prepared: MutableMapping[Any, Any],
) -> pq.abc.PGresult:
    """Run the statement, prepared first on this connection if it is not yet."""
    _prepare(driver, statement, prepared)
    # A None is a NULL (the stubs leave it out; psycopg's own queries pass them).
    return driver.pgconn.exec_prepared(statement.name, cast(Any, parameters))


def _prepare(
    driver: psycopg.Connection[Any], statement: Statement, prepared: MutableMapping[Any, Any]
) -> None:
    """Prepare the statement on this connection if it is not yet."""
    pgconn = driver.pgconn
    if statement.name not in prepared:
        if len(prepared) >= PER_CONNECTION:
            # Ours only: DEALLOCATE ALL would take psycopg's own prepared statements too.
            for name in list(prepared):
                _check(driver, pgconn.exec_(b'DEALLOCATE "' + name + b'"'), NO_SUCH_STATEMENT)
                del prepared[name]
        # Already there, if this connection's record of them was cleared and not all of
        # them went.
        _check(driver, pgconn.prepare(statement.name, statement.sql), DUPLICATE_STATEMENT)
        prepared[statement.name] = True


def _check(
    driver: psycopg.Connection[Any], result: pq.abc.PGresult, harmless: bytes | None = None
) -> pq.abc.PGresult:
    """The result, or the error it carries (but the ``harmless`` one), as psycopg
    raises it."""
    if result.status in (pq.ExecStatus.TUPLES_OK, pq.ExecStatus.COMMAND_OK):
        return result
    if harmless is not None and result.error_field(pq.DiagnosticField.SQLSTATE) == harmless:
        return result
    if driver.pgconn.status == pq.ConnStatus.BAD:
        # The connection is lost (the result has no SQLSTATE): an OperationalError, as
        # psycopg's own cursor raises then, and the service answers 503.
        message = result.error_message.decode(errors="replace").strip()
        raise psycopg.OperationalError(message or "the connection to the server was lost")
    raise psycopg.errors.error_from_result(result, encoding=driver.info.encoding)
