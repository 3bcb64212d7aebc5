"""The web app's upload worker: one thread, one job at a time, only while there are jobs.

A received upload is queued as a record and the worker is kicked; it takes queued jobs
oldest first until none is left, then ends. Nothing needs starting with the app, and a job
kicked while the thread is deciding to end is not missed: both sides decide under one lock.

The app's shutdown calls :meth:`UploadWorker.shutdown` (svidok.web.app's lifespan): no new
job is taken, and the one running is waited for, so the thread is gone before whoever made
the app closes the database it writes to (``svidok serve``, a test's data folder). The
thread is still a daemon: a server that cannot wait (``kill -9``, or a job outlasting
:data:`SHUTDOWN_WAIT`) leaves the ingest as a crash would (which loses nothing), and the
next start marks the job interrupted.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time

from svidok.home import Home
from svidok.locker.upload_jobs import claim_next, fail_job, recover
from svidok.locker.uploads import run_job

log = logging.getLogger(__name__)
# How long the app's shutdown waits for a running job: a job cannot be stopped mid-ingest,
# and a bigger one than this is left as a crash would leave it.
SHUTDOWN_WAIT = 120.0


class UploadWorker:
    def __init__(self, home: Home) -> None:
        self.home = home
        # Which app received a job: a restarted server may get the same process id.
        self.owner = secrets.token_hex(8)
        self.stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._more = False

    def recover(self) -> list[int]:
        """Jobs a stopped server left unfinished: marked interrupted (at start-up)."""
        return recover(self.home, self.owner)

    def kick(self) -> None:
        """Make sure queued jobs are taken."""
        with self._lock:
            if self._thread is not None:
                self._more = True
                return
            self._thread = threading.Thread(target=self._run, name="svidok-uploads",
                                            daemon=True)
            self._thread.start()

    def idle(self) -> bool:
        with self._lock:
            return self._thread is None

    def shutdown(self, timeout: float = SHUTDOWN_WAIT) -> bool:
        """Take no more jobs, and wait up to ``timeout`` seconds for the one running (a
        job waiting for the ingest lock gives up at once). True when the thread is gone.
        Jobs still queued stay queued: the next start marks them interrupted."""
        self.stop.set()
        deadline = time.monotonic() + timeout
        if not self.idle():
            # Ctrl-C on `svidok serve` waits here; say why.
            log.warning("waiting up to %.0f s for the upload job running to end", timeout)
        while True:
            with self._lock:
                thread = self._thread
            if thread is None:
                return True
            # A kick racing this shutdown may have started a thread just now; it sees the
            # stop and ends at once, so loop until no thread is left.
            thread.join(max(0.0, deadline - time.monotonic()))
            if thread.is_alive():
                log.warning("the upload worker was still busy after %.0f s; its job will "
                            "be marked interrupted at the next start", timeout)
                return False

    def _run(self) -> None:
        try:
            self._loop()
        finally:
            # Also when the loop itself failed (the database gone): a later kick starts
            # a new thread. Only this thread's own mark is cleared.
            with self._lock:
                if self._thread is threading.current_thread():
                    self._thread = None

    def _loop(self) -> None:
        while not self.stop.is_set():
            job = claim_next(self.home.engine)
            if job is None:
                with self._lock:
                    if not self._more:
                        self._thread = None
                        return
                    self._more = False
                continue
            try:
                run_job(self.home, job, stop=self.stop)
            except Exception as exc:  # the job must end, whatever failed
                # Only the kind of failure: a message could hold names from the evidence.
                log.warning("upload job %s failed: %s", job.id, type(exc).__name__)
                fail_job(self.home.engine, job.id, "the upload failed unexpectedly "
                         f"({type(exc).__name__}); what was stored before is kept")
