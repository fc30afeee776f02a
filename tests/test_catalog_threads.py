"""The catalog shared by threads, as a server's request threads share it: each thread's transactions are its
own, and readers in other threads see them whole or not at all."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from vetta.catalog import Catalog


def test_a_reader_in_another_thread_never_sees_half_a_transaction(tmp_path):
    catalog = Catalog(tmp_path / "catalog.sqlite")
    first_written, read_done = threading.Event(), threading.Event()
    seen: dict[str, object] = {}

    def writer():
        with catalog.transaction() as db:
            db.execute("INSERT OR REPLACE INTO meta VALUES ('first', '1')")
            first_written.set()
            assert read_done.wait(10)
            db.execute("INSERT OR REPLACE INTO meta VALUES ('second', '2')")

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


def test_a_failed_transaction_in_one_thread_does_not_undo_another_threads_writes(tmp_path):
    catalog = Catalog(tmp_path / "catalog.sqlite")
    inside, other_done = threading.Event(), threading.Event()

    def failing():
        try:
            with catalog.transaction() as db:
                db.execute("INSERT OR REPLACE INTO meta VALUES ('doomed', 'x')")
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


def test_many_threads_read_while_others_write(tmp_path):
    catalog = Catalog(tmp_path / "catalog.sqlite")

    def write(n):
        with catalog.transaction() as db:
            db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (f"k{n}", str(n)))
            db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (f"mirror{n}", str(n)))

    def read(_):
        keys = {row[0]: row[1] for row in catalog._db.execute("SELECT key, value FROM meta")}
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


def test_connections_of_ended_threads_are_closed(tmp_path):
    catalog = Catalog(tmp_path / "catalog.sqlite")
    catalog.set_meta("k", "v")
    for _ in range(20):  # as a server's pool starts threads and lets idle ones end
        thread = threading.Thread(target=catalog.get_meta, args=("k",))
        thread.start()
        thread.join()
    # each new thread's connection closed the ended ones': this thread's and the last thread's are left
    assert len(catalog._connections) == 2
    catalog.close()
