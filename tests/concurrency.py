"""Threads released together, each on its own database connection (concurrency tests).

Concurrency is proven on PostgreSQL (SQLite ignores row locks): every test that uses
this runs with `transaction=True`, so each thread's work commits for the others to see.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.db import connections, transaction


def together(
    n: int, work: Callable[[int], Any], *, atomic: bool = False, timeout: float = 90
) -> tuple[list[Any], list[BaseException]]:
    """Run work(i) on n threads released at the same moment; return results and errors.

    `atomic`: each work runs in a durable transaction of its own (for work made of
    several service calls that must commit together).
    """
    barrier = threading.Barrier(n)
    results: list[Any] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            if atomic:
                with transaction.atomic(durable=True):
                    result = work(i)
            else:
                result = work(i)
            with lock:
                results.append(result)
        except BaseException as exc:
            with lock:
                errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    assert not any(thread.is_alive() for thread in threads)
    return results, errors


def all_together(works: list[Callable[[], Any]]) -> tuple[list[Any], list[BaseException]]:
    """Run each work on its own thread, all released at the same moment."""
    return together(len(works), lambda i: works[i]())
