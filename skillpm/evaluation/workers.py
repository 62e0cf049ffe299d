"""Jobs on a few daemon threads, which an interrupted run does not wait for.

``concurrent.futures`` joins its worker threads when it shuts down and again when the
interpreter exits, so a job stuck in a C call (a regular expression search that overruns its
time limit, a program's pipe) held Ctrl-C and SIGTERM until it ended. Here the threads are
daemons: when the run stops early, what the jobs started is ended (``on_stop``), the running
jobs get a short grace to finish, and any still running are left to end with the process.
"""

from __future__ import annotations

import queue
import threading
import time
from typing import Callable, Sequence, TypeVar

J = TypeVar("J")
R = TypeVar("R")

#: Seconds the running jobs get to finish when a run stops early.
GRACE_S = 1.0


def run_on_threads(
    jobs: Sequence[J],
    work: Callable[[J], R],
    *,
    workers: int,
    on_result: Callable[[J, R], None],
    on_stop: Callable[[], None] = lambda: None,
    grace_s: float = GRACE_S,
) -> None:
    """Run ``work(job)`` for every job, ``workers`` at a time, calling ``on_result`` in this thread as each ends.

    The first exception a job raises stops the others (no worker starts another job) and is
    raised here. When this call ends early (that exception, Ctrl-C, SIGTERM), ``on_stop`` is
    called first, then the running jobs get ``grace_s`` seconds before they are left behind.
    """
    todo: queue.SimpleQueue[J] = queue.SimpleQueue()
    for job in jobs:
        todo.put(job)
    done: queue.SimpleQueue[tuple[J, R | None, BaseException | None]] = queue.SimpleQueue()
    stop = threading.Event()

    def worker() -> None:
        while not stop.is_set():
            try:
                job = todo.get_nowait()
            except queue.Empty:
                return
            try:
                done.put((job, work(job), None))
            except BaseException as error:  # noqa: BLE001 - handed to the caller's thread
                stop.set()
                done.put((job, None, error))

    threads = [
        threading.Thread(target=worker, name=f"skillpm-eval-{number}", daemon=True)
        for number in range(max(1, min(workers, len(jobs))))
    ]
    for thread in threads:
        thread.start()
    finished = False
    try:
        for _ in jobs:
            job, result, error = done.get()  # a signal's exception is raised while waiting here
            if error is not None:
                raise error
            on_result(job, result)  # type: ignore[arg-type] - a result, as error is None
        finished = True
    finally:
        stop.set()
        if not finished:
            on_stop()
        deadline = None if finished else time.monotonic() + grace_s
        for thread in threads:
            thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
