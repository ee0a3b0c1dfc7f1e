"""Engine creation and migrations."""

from __future__ import annotations

import re
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache, partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool
from sqlmodel import Session, create_engine

if TYPE_CHECKING:
    from alembic.config import Config

_STORAGE_DIR = Path(__file__).resolve().parent


def make_engine(url: str, *, pool_size: int = 10, take_turns: bool = True) -> Engine:
    """An engine for SQLite (the embedded default) or PostgreSQL (production). `pool_size`: the threads that
    use the database at once (request threads, delivery workers, the scheduler). `take_turns=False` is for
    the scheduler's job store on SQLite, whose own lock must not wait behind the application's
    transactions (see bot/runtime.py)."""
    if url.startswith("sqlite"):
        # Bolt runs listeners in a thread pool, and the dispatcher and the scheduler have threads of their own.
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=pool_size,
            max_overflow=pool_size,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        # SQLite has one writer, and a transaction that read before it writes gets "database is locked" at
        # once (no waiting) when another one wrote meanwhile. So this process runs one SQLite transaction
        # at a time: a connection is held from checkout to checkin, which the Session does per transaction.
        if take_turns:
            turnstile = _Turnstile()
            _turnstiles[engine] = turnstile
            event.listen(engine, "checkout", partial(_check_out, turnstile))
            event.listen(engine, "checkin", partial(_check_in, turnstile))
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=pool_size, max_overflow=pool_size)


_reading = threading.local()
_turnstiles: weakref.WeakKeyDictionary[Engine, _Turnstile] = weakref.WeakKeyDictionary()


def holds_turn(engine: Engine) -> bool:
    """Whether this thread is inside one of the engine's SQLite transactions. The scheduler's job store
    writes to the same file through a connection of its own, so a scheduler call made here would wait for
    this transaction's write lock, up to the 30 s busy timeout: schedule after committing."""
    turnstile = _turnstiles.get(engine)
    return turnstile is not None and turnstile.held_here()


@contextmanager
def read_only(engine: Engine) -> Iterator[Session]:
    """A session for reads alone (an ack that only shows something). On SQLite it does not wait for the
    writers' turns, since in WAL mode a reader never waits and is never waited for, and its connection
    refuses to write (PRAGMA query_only)."""
    outer = getattr(_reading, "on", False)
    _reading.on = True
    try:
        with unit_of_work(engine) as session:
            yield session
    finally:
        _reading.on = outer


def _check_out(turnstile: _Turnstile, dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    reading = getattr(_reading, "on", False)
    if reading != record.info.get("query_only", False):
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA query_only={int(reading)}")
        cursor.close()
        record.info["query_only"] = reading
    if not reading:
        turnstile.enter()
    record.info["took_turn"] = not reading


def _check_in(turnstile: _Turnstile, _dbapi_connection: Any, record: Any) -> None:
    if record.info.pop("took_turn", False):
        turnstile.leave()


class _Turnstile:
    """One holder at a time across threads, re-entrant within a thread (a session opened inside another's
    transaction). Unlike an RLock it may be left from another thread: a connection can be returned by
    whichever thread closes its session."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._owner: int | None = None
        self._depth = 0

    def enter(self) -> None:
        me = threading.get_ident()
        with self._cond:
            self._cond.wait_for(lambda: self._owner in (None, me))
            self._owner = me
            self._depth += 1

    def held_here(self) -> bool:
        with self._cond:
            return self._owner == threading.get_ident()

    def leave(self) -> None:
        with self._cond:
            self._depth -= 1
            if self._depth == 0:
                self._owner = None
                self._cond.notify_all()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    # WAL: readers never wait for the writer; NORMAL: a commit is durable once checkpointed, and a
    # crash loses at most the last transactions, never the database (SQLite's advice for WAL).
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


# APScheduler owns its job table; migrations must neither create nor drop it.
_FOREIGN_TABLES = {"apscheduler_jobs"}


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Alembic's filter: everything but the tables other libraries own."""
    return not (type_ == "table" and name in _FOREIGN_TABLES)


def alembic_config(url: str) -> Config:
    # Alembic (and Mako, Pygments under it) is imported only to migrate: a bot restarted on an up-to-date
    # database never loads it, which keeps `rearview run` lean (README "Performance").
    from alembic.config import Config

    config = Config(str(_STORAGE_DIR / "alembic.ini"))
    config.set_main_option("script_location", str(_STORAGE_DIR / "migrations"))
    # ConfigParser interpolation would choke on '%' in passwords.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str) -> None:
    """Bring the schema to the newest revision: the only way the schema is made outside tests. A database
    already there is left alone without running Alembic's environment (a restart costs no migration run)."""
    if _revision(url) != _head():
        from alembic import command

        command.upgrade(alembic_config(url), "head")


def unmigrated(url: str) -> str | None:
    """Why the database at `url` is not at the newest revision, or None if it is. For the commands that only
    read: it creates and changes nothing (a SQLite file that does not exist is not made)."""
    parsed = make_url(url)
    database = parsed.database or ""
    if (
        parsed.get_backend_name() == "sqlite"
        and database not in ("", ":memory:")
        and "uri" not in parsed.query
        and not Path(database).exists()
    ):
        return f"there is no {database}"
    current = _revision(url)
    if current is None:
        return "it has no tables yet"
    if current != _head():
        return f"its schema is at revision {current}, this version needs {_head()}"
    return None


_REVISION = re.compile(r'^(down_)?revision\b[^=]*=\s*(?:"([^"]*)"|None)', re.MULTILINE)


@cache
def _head() -> str | None:
    """The newest revision, read from the migration files' `revision`/`down_revision` lines without importing
    Alembic; Alembic's own answer when they are not one plain chain (tests/test_migrations.py compares)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in (_STORAGE_DIR / "migrations" / "versions").glob("*.py"):
        for down, value in _REVISION.findall(script.read_text(encoding="utf-8")):
            if value:
                (parents if down else revisions).add(value)
    heads = revisions - parents
    if len(heads) == 1 and parents <= revisions:
        return heads.pop()
    return _alembic_head()


def _alembic_head() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def _revision(url: str) -> str | None:
    """The database's revision, read as Alembic keeps it (the `alembic_version` table), None if unversioned."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            if not inspect(connection).has_table("alembic_version"):
                return None
            versions = list(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())
            if len(versions) > 1:
                raise RuntimeError(f"the database has several Alembic heads: {versions}")
            return versions[0] if versions else None
    finally:
        engine.dispose()


def unit_of_work(engine: Engine) -> Session:
    """A session for one service operation. Objects stay readable after commit (and after the
    session closes): services commit, then tell Slack what they stored."""
    return Session(engine, expire_on_commit=False)
