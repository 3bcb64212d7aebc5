"""Where files are read, hashed and copied: worker threads, or worker processes.

Threads share one interpreter lock, and on a machine with few cores tens of thousands of
small files made the workers, the recorder and the main loop queue for it: 50,000 files of
4 KB went about 30% faster with one process per core. Processes cost half a second to
start, so small batches use threads. Either way each task returns what it stored, and a
Ctrl-C only sets ``stop``: workers finish or abandon the file at hand and return.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

from svidok.locker.blobs import BlobStore
from svidok.locker.store import Failed, StopFlag, Stored, StoreError, store_files
from svidok.locker.walk import Candidate

Pool = Literal["threads", "processes", "auto"]
POOLS: tuple[Pool, ...] = ("auto", "threads", "processes")
# Below this many files to store, starting processes costs more than it saves.
PROCESSES_FROM_FILES = 1000

TaskResult = tuple[list[Stored | Failed], StoreError | None]


@dataclass(frozen=True)
class Workers:
    executor: Executor
    stop: StopFlag
    kind: Literal["threads", "processes"]
    size: int

    def submit(self, chunk: Sequence[Candidate], blobs: BlobStore) -> Future[TaskResult]:
        if self.kind == "processes":
            return self.executor.submit(_store_in_process, list(chunk), blobs)
        return self.executor.submit(store_files, chunk, blobs, self.stop)


_process_stop: StopFlag | None = None


def _start_process(stop: StopFlag) -> None:
    global _process_stop
    _process_stop = stop
    # Ctrl-C in a terminal reaches every process of the group; the parent decides.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _store_in_process(chunk: list[Candidate], blobs: BlobStore) -> TaskResult:
    return store_files(chunk, blobs, _process_stop)


def choose(pool: Pool, files: int) -> Literal["threads", "processes"]:
    if pool == "auto":
        cores = os.cpu_count() or 1
        return "processes" if cores > 1 and files >= PROCESSES_FROM_FILES else "threads"
    return pool


@contextmanager
def workers(pool: str, size: int, files: int) -> Iterator[Workers]:
    """Worker threads or processes for storing ``files`` files; shut down on exit."""
    if pool not in POOLS:
        raise ValueError(f"unknown worker pool {pool!r}")
    kind = choose(pool, files)
    if kind == "threads":
        stop: StopFlag = threading.Event()
        with ThreadPoolExecutor(max_workers=size, thread_name_prefix="ingest") as executor:
            yield Workers(executor, stop, kind, size)
        return
    # forkserver: children start clean, holding none of this process's database
    # connections or the ingest lock, as plain fork would.
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["svidok.locker.store"])
    processes = max(1, min(size, os.cpu_count() or 1))
    event = context.Event()
    with ProcessPoolExecutor(max_workers=processes, mp_context=context,
                             initializer=_start_process, initargs=(event,)) as executor:
        yield Workers(executor, event, kind, processes)
