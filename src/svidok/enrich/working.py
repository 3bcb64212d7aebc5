"""Running the planned enrichers on a group of items, in a worker process or inline.

Nothing here touches the database: a job is a list of subjects with the names of the
enrichers to run on each, and its result is plain data the runner stores. An enricher
that raises costs only its own run on that item; the item's next enrichers still run
(with whatever text there is).
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from svidok.enrich.enricher import Enricher, EnrichError, Output, Subject

State = Literal["done", "failed", "skipped"]
TEXT_ROLES = ("text", "ocr-text")  # in this order they make the item's text


@dataclass
class RunResult:
    enricher: str
    state: State
    output: Output | None = None
    error: str | None = None
    seconds: float = 0.0


@dataclass
class Job:
    subjects: list[Subject]
    runs: list[list[str]]  # per subject, the enricher names to run in order


@dataclass
class JobResult:
    subjects: list[Subject]
    results: list[list[RunResult]]


def absorb(subject: Subject, output: Output) -> None:
    """Hand what an enricher found to those after it: text, title, language."""
    for artifact in output.artifacts:
        if artifact.role in TEXT_ROLES and artifact.content:
            subject.text = (f"{subject.text}\n\n{artifact.content}" if subject.text
                            else artifact.content)
    for note in output.annotations:
        if note.kind == "title" and subject.title is None:
            subject.title = note.value
        elif note.kind == "language" and subject.language is None:
            subject.language = note.value
        elif note.kind == "ocr-pages":
            subject.ocr_pages = tuple(int(p) for p in note.value.split(",") if p)


def _explain(exc: BaseException) -> str:
    # The exception's own text is kept only for our errors, whose messages are written
    # never to quote evidence; a library's message might (a parser echoing its input).
    if isinstance(exc, EnrichError):
        return str(exc) or type(exc).__name__
    frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    where = f" in {frame.filename.rsplit('/', 1)[-1]}:{frame.lineno}" if frame else ""
    return f"{type(exc).__name__}{where}"


def run_one(enricher: Enricher, subject: Subject) -> RunResult:
    started = time.perf_counter()
    try:
        if not enricher.accepts(subject):
            return RunResult(enricher.name, "skipped")
        output = enricher.run(subject)
    except MemoryError:
        return RunResult(enricher.name, "failed", error="out of memory",
                         seconds=time.perf_counter() - started)
    except Exception as exc:  # bad input costs only this run
        return RunResult(enricher.name, "failed", error=_explain(exc),
                         seconds=time.perf_counter() - started)
    absorb(subject, output)
    return RunResult(enricher.name, "done", output, seconds=time.perf_counter() - started)


def run_job(job: Job, enrichers: Mapping[str, Enricher]) -> JobResult:
    results: list[list[RunResult]] = []
    for subject, names in zip(job.subjects, job.runs, strict=True):
        results.append([run_one(enrichers[name], subject) for name in names])
        subject.memo.clear()
    return JobResult(job.subjects, results)


# -- in a worker process ------------------------------------------------------------------

_worker_enrichers: dict[str, Enricher] = {}


def start_worker(names: Sequence[str]) -> None:
    """Pool initializer: build the registered enrichers once per process."""
    from svidok.enrich.registry import enrichers

    _worker_enrichers.update({e.name: e for e in enrichers() if e.name in names})


def run_job_in_worker(job: Job) -> JobResult:
    return run_job(job, _worker_enrichers)
