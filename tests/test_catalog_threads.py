"""The catalog shared by threads, as a server's request threads share it: each thread's transactions are its
own, and readers in other threads see them whole or not at all. Each test runs on SQLite and on a real
PostgreSQL."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from vetta.catalog import Catalog

PUT = sa.text("INSERT INTO meta (key, value) VALUES (:key, :value)")


@pytest.fixture
def catalog(tmp_path, catalog_url):
    catalog = Catalog(catalog_url or tmp_path / "catalog.sqlite", schema="vetta_threads")
    yield catalog
    catalog.close()


def test_a_reader_in_another_thread_never_sees_half_a_transaction(catalog):
    first_written, read_done = threading.Event(), threading.Event()
    seen: dict[str, object] = {}

    def writer():
        with catalog.transaction() as db:
            db.execute(PUT, {"key": "first", "value": "1"})
            first_written.set()
            assert read_done.wait(10)
            db.execute(PUT, {"key": "second", "value": "2"})

    def reader():
        assert first_written.wait(10)
        seen["during"] = (catalog.get_meta("first"), catalog.get_meta("second"))
        read_done.set()

    threads = [threading.Thread(target=writer), threading.Thread(target=reader)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    # a shared connection shows the writer's uncommitted first row to the reader
    assert seen["during"] == (None, None)
    assert (catalog.get_meta("first"), catalog.get_meta("second")) == ("1", "2")
    catalog.close()


def test_a_failed_transaction_in_one_thread_does_not_undo_another_threads_writes(catalog):
    inside, other_done = threading.Event(), threading.Event()

    def failing():
        try:
            with catalog.transaction() as db:
                db.execute(PUT, {"key": "doomed", "value": "x"})
                inside.set()
                assert other_done.wait(10)
                raise RuntimeError("the writer fails")
        except RuntimeError:
            pass

    def other():
        assert inside.wait(10)
        # waits for the failing writer's lock, then writes in a transaction of its own
        done = threading.Thread(target=lambda: catalog.set_meta("kept", "yes"))
        done.start()
        other_done.set()
        done.join(20)

    threads = [threading.Thread(target=failing), threading.Thread(target=other)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert catalog.get_meta("doomed") is None
    assert catalog.get_meta("kept") == "yes"
    catalog.close()


def test_many_threads_read_while_others_write(catalog):

    def write(n):
        with catalog.transaction() as db:
            db.execute(PUT, {"key": f"k{n}", "value": str(n)})
            db.execute(PUT, {"key": f"mirror{n}", "value": str(n)})

    def read(_):
        keys = dict(catalog.rows("SELECT key, value FROM meta"))
        # every key the reader sees has its mirror: transactions are seen whole
        for key, value in keys.items():
            if key.startswith("k"):
                assert keys.get(f"mirror{key[1:]}") == value

    with ThreadPoolExecutor(8) as pool:
        writes = [pool.submit(write, n) for n in range(60)]
        reads = [pool.submit(read, n) for n in range(300)]
        for future in writes + reads:
            future.result(timeout=60)
    assert catalog.generation == 60
    assert catalog.get_meta("k59") == "59"
    catalog.close()
    # closed means every thread's connection is closed; the catalog opens fresh ones after
    assert catalog.get_meta("k0") == "0"


def test_connections_do_not_pile_up_as_threads_come_and_go(catalog):
    opened = []
    sa.event.listen(catalog.engine, "connect", lambda *_: opened.append(1))
    catalog.set_meta("k", "v")
    for _ in range(20):  # as a server's pool starts threads and lets idle ones end
        thread = threading.Thread(target=catalog.get_meta, args=("k",))
        thread.start()
        thread.join()
    # one connection at a time was needed, so one was opened (a connection per thread would be 21)
    assert len(opened) <= 1
    assert catalog.engine.pool.checkedout() == 0
