"""Reading a big container in a process of its own, while this one records what it reads.

Reading a Telegram export and turning each message into an entry is as much work as
recording it, and both need Python's interpreter lock: on one process they took turns.
An importer whose entries are plain values (``portable = True``: no openers, which could
not cross to another process) is run in a child process instead, and sends its entries
back in chunks; on two cores reading and recording then run side by side.

The child starts from the forkserver, so it holds none of this process's database
connections or locks, and it ignores Ctrl-C: the parent decides when to stop, and ends it.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections.abc import Iterator
from multiprocessing.connection import Connection
from typing import Any

from svidok.sources.importer import AnyEntry, Container, Entry, ImportFailed, ImportOptions
from svidok.sources.problems import Problem

# Below this size starting a process costs more than it saves (about a third of a second).
SEPARATE_FROM_BYTES = 4 * 1024 * 1024
CHUNK = 1000


class ReaderStopped(Exception):
    """The reading process ended without finishing; the message says how."""


def separate(importer: Any, container: Container) -> bool:
    """Whether to read ``container`` in a process of its own."""
    return (bool(getattr(importer, "portable", False))
            and container.size >= SEPARATE_FROM_BYTES and (os.cpu_count() or 1) > 1)


def read_separately(importer_name: str, container: Container,
                    options: ImportOptions) -> Iterator[AnyEntry | Problem]:
    """The importer's entries, read by a child process, in order."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["svidok.sources.importers"])
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_read, args=(importer_name, container, options, sender),
                            name="svidok-reader", daemon=True)
    child.start()
    sender.close()  # only the child writes; its end closing is how the parent sees EOF
    try:
        while True:
            try:
                kind, body = receiver.recv()
            except EOFError:
                child.join()
                raise ReaderStopped(f"the reading process ended unexpectedly (exit status "
                                    f"{child.exitcode}); what it sent before is kept") from None
            if kind == "entries":
                yield from body
            elif kind == "failed":
                raise ImportFailed(body)
            elif kind == "error":
                raise ReaderStopped(f"the reader stopped ({body}); what it read before is "
                                    "kept; please report this with the importer's name")
            else:
                return
    finally:
        receiver.close()
        if child.is_alive():
            child.terminate()
        child.join()


def _read(importer_name: str, container: Container, options: ImportOptions,
          sender: Connection) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from svidok.sources.importers import BY_NAME
    from svidok.sources.recording import prepared

    chunk: list[AnyEntry | Problem] = []
    try:
        for found in BY_NAME[importer_name].read(container, options):
            # Its record is made here, on this process's core, not the recorder's.
            chunk.append(prepared(found) if isinstance(found, Entry) else found)
            if len(chunk) >= CHUNK:
                sender.send(("entries", chunk))
                chunk = []
        sender.send(("entries", chunk))
        sender.send(("done", None))
    except ImportFailed as exc:
        sender.send(("entries", chunk))
        sender.send(("failed", str(exc)))
    except BrokenPipeError:
        pass  # the parent stopped reading: it is ending this process
    except Exception as exc:
        # Only the type: an exception's text can quote the evidence.
        sender.send(("entries", chunk))
        sender.send(("error", type(exc).__name__))
    finally:
        sender.close()
