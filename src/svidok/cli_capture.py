"""``svidok capture URL...``: capture web pages and direct media links, then preserve them.

Each URL is captured into its own folder under ``<data folder>/captures/`` (see
sources/web.py) and that folder is ingested at once, as one batch, so the WARC, the
screenshot or file, and the capture context become originals with custody events. One URL
failing never stops the others; the exit status is 1 when any part of any URL failed.
Nothing from the pages themselves (content, titles, cookies) is printed.

A capture killed mid-way leaves its hidden ``.<name>.partial`` folder behind; the next run
removes such leftovers, but only when no other capture is running (see ``_running``).
"""

from __future__ import annotations

import fcntl
import itertools
import os
import re
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from svidok.cli_common import EXIT_FAILED, JsonOpt, fail, opened
from svidok.home import Home, HomeError
from svidok.locker.ingest import IngestError, IngestOptions, ingest
from svidok.output import emit_json, err, out, safe
from svidok.sources.web import (
    CaptureOptions,
    PageCapture,
    capture,
    chromium_problem,
    partial_folder,
)
from svidok.sources.web_fetch import CaptureError, check_url

CAPTURES = "captures"
RUNS_LOCK = "capture-runs.lock"  # in <home>/locks, beside Home.lock's
# partial_folder of a _new_folder name; nothing else in captures/ is ever removed.
LEFTOVER = re.compile(r"\.\d{8}T\d{6}Z-\d+\.partial")


def _new_folder(parent: Path) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    for n in itertools.count(1):
        path = parent / f"{stamp}-{n}"
        if not path.exists() and not partial_folder(path).exists():
            return path
    raise AssertionError("unreachable")


def _remove_leftovers(parent: Path, before: float) -> tuple[list[str], list[str]]:
    """Remove the unfinished folders of killed captures from ``parent``: LEFTOVER names only,
    last changed before ``before``, real folders, never through a symbolic link (``parent``
    included). The names removed, and what could not be removed, as messages."""
    removed: list[str] = []
    failed: list[str] = []
    try:
        # By descriptor, so a name swapped for a link meanwhile is refused, not followed.
        fd = os.open(parent, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return removed, failed
    try:
        with os.scandir(fd) as entries:
            names = sorted(e.name for e in entries if LEFTOVER.fullmatch(e.name)
                           and e.is_dir(follow_symlinks=False)
                           and e.stat(follow_symlinks=False).st_mtime < before)
        for name in names:
            try:
                shutil.rmtree(name, dir_fd=fd)
            except OSError as exc:
                failed.append(f"{name} ({exc.strerror or exc})")
            else:
                removed.append(name)
    finally:
        os.close(fd)
    return removed, failed


@contextmanager
def _running(home_dir: Path, parent: Path) -> Iterator[tuple[list[str], list[str]]]:
    """Held, shared, while this run captures, so a run starting meanwhile never takes this
    run's unfinished folder for a leftover. Only a run that gets it exclusively, when no
    other capture is running, removes leftovers first; the kernel drops a killed run's lock.
    Yields what ``_remove_leftovers`` did."""
    started = time.time()
    (home_dir / "locks").mkdir(mode=0o700, exist_ok=True)
    fd = os.open(home_dir / "locks" / RUNS_LOCK, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        removed: list[str] = []
        failed: list[str] = []
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pass  # another capture is running: a .partial folder may be its work
        else:
            removed, failed = _remove_leftovers(parent, started)
        # Not atomic: a run that slips in between may clean up, and nothing of ours exists yet.
        fcntl.flock(fd, fcntl.LOCK_SH)
        yield removed, failed
    finally:
        os.close(fd)  # releases the lock


def _capture(parent: Path, url: str, options: CaptureOptions) -> PageCapture:
    while True:
        try:
            return capture(url, _new_folder(parent), options)
        except FileExistsError:
            continue  # another capture took the same name this second


def _store(home: Home, page: PageCapture, ingest_options: IngestOptions,
           entry: dict[str, Any]) -> list[str]:
    """Ingest the capture folder; the problems, as messages."""
    assert page.folder is not None
    try:
        report = ingest(home, [page.folder], ingest_options)
    except (IngestError, HomeError) as exc:
        return [f"captured into {page.folder} but not stored ({exc}); store it with: "
                f"svidok ingest {page.folder}"]
    stored = [o for o in report.outcomes if o.state in ("stored", "sighting")]
    entry["items"] = [{"id": o.item_id, "path": o.rel_path, "state": o.state,
                       "sha256": o.sha256} for o in stored]
    entry["items_stored"] = len(stored)
    problems = [f"{o.rel_path} was not stored: {o.message}" for o in report.outcomes
                if o.state == "failed"]
    if report.aborted:
        problems.append(f"storing stopped early ({report.aborted}); run: "
                        f"svidok ingest {page.folder}")
    if report.checkpoint_error:
        problems.append(report.checkpoint_error)
    # Containers in the folder (the WARC) read into child items, when an importer claims them.
    entry["imports"] = [{"id": i.import_id, "path": i.rel_path, "importer": i.importer,
                         "state": i.state, "items": i.items, "problems": i.problems}
                        for i in report.imports]
    for i in report.imports:
        if i.state != "finished" or i.problems:
            what = f"failed ({i.error})" if i.error else f"found {i.problems} problem(s)"
            problems.append(f"reading {i.rel_path} {what}; see: svidok imports show {i.import_id}")
    return problems


def _one(home: Home, parent: Path, url: str, options: CaptureOptions,
         ingest_options: IngestOptions) -> dict[str, Any]:
    entry: dict[str, Any] = {"url": url, "final_url": None, "status": None, "kind": None,
                             "folder": None, "screenshot": False, "embedded": 0,
                             "items_stored": 0, "items": [], "imports": [], "error": None,
                             "warnings": []}
    try:
        check_url(url)
    except CaptureError as exc:
        entry["error"] = str(exc)
        return entry
    try:
        page = _capture(parent, url, options)
    except OSError as exc:  # the data folder itself: full disk, permissions
        entry["error"] = f"the capture could not be written ({exc.strerror or exc})"
        return entry
    entry.update(final_url=page.final_url, status=page.status, kind=page.kind,
                 screenshot=page.screenshot, embedded=len(page.embedded),
                 folder=str(page.folder) if page.folder else None,
                 warnings=[f"{w.where}: {w.message}" for w in page.warnings])
    problems = [p.message for p in page.errors]
    if page.folder is not None:
        problems += _store(home, page, ingest_options, entry)
    entry["error"] = "; ".join(problems) or None
    return entry


def _show(entry: dict[str, Any]) -> None:
    url = entry["url"]
    if entry["folder"]:
        moved = f" → {entry['final_url']}" if entry["final_url"] not in (None, url) else ""
        parts = [f"HTTP {entry['status']}", entry["kind"] or "nothing to show"]
        if entry["screenshot"]:
            parts.append("screenshot")
        if entry["embedded"]:
            parts.append(f"{entry['embedded']} embedded files")
        ids = ", ".join(str(i["id"]) for i in entry["items"]) or "none"
        read = sum(i["items"] for i in entry["imports"])
        inside = f" ({read} more read from inside them)" if read else ""
        out.print(safe(f"Captured {url}{moved} ({', '.join(parts)}): stored as items {ids}"
                       f"{inside}; folder {entry['folder']}"))
    for warning in entry["warnings"]:
        err.print(safe(f"Warning: {warning}"), style="yellow")
    if entry["error"]:
        err.print(safe(f"Error: {url}: {entry['error']}"), style="red")


def _show_leftovers(removed: list[str], unremovable: list[str]) -> None:
    if removed:
        err.print(safe(f"Removed {len(removed)} unfinished capture folder(s) left by an "
                       f"interrupted capture: {', '.join(removed)}"))
    for problem in unremovable:
        err.print(safe(f"Warning: could not remove the unfinished capture {problem}"),
                  style="yellow")


def capture_cmd(
    urls: Annotated[list[str], typer.Argument(
        help="Web pages or direct links to files, http:// or https://.", show_default=False)],
    collector: Annotated[str | None, typer.Option(help="Who collected this material.")] = None,
    note: Annotated[str | None, typer.Option(help="A note kept with every item.")] = None,
    timeout: Annotated[float, typer.Option(
        min=1, max=3600, help="Seconds a page may take to arrive and load; each embedded "
                              "file fetched directly gets as long again.")] = 60.0,
    no_screenshot: Annotated[bool, typer.Option(
        "--no-screenshot", help="Do not start the browser: no screenshot; images and videos "
                                "named in the page's HTML are still captured.")] = False,
    insecure: Annotated[bool, typer.Option(
        "--insecure", help="Capture over HTTPS even when the certificate does not verify; "
                           "the capture records that it did not.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Capture web pages or media links (WARC, screenshot, context) and preserve them."""
    options = CaptureOptions(timeout=timeout, screenshot=not no_screenshot, insecure=insecure)
    if options.screenshot and (problem := chromium_problem(options.chromium)):
        fail(problem, as_json)
    ingest_options = IngestOptions(collector=collector, note=note)
    results: list[dict[str, Any]] = []
    with opened(as_json) as home:
        parent = home.settings.home / CAPTURES
        parent.mkdir(mode=0o700, exist_ok=True)
        with _running(home.settings.home, parent) as (removed, unremovable):
            if not as_json:
                _show_leftovers(removed, unremovable)
            try:
                for index, url in enumerate(urls, 1):
                    if as_json:
                        results.append(_one(home, parent, url, options, ingest_options))
                        continue
                    with err.status(safe(f"Capturing {index}/{len(urls)}: {url}")):
                        results.append(_one(home, parent, url, options, ingest_options))
                    _show(results[-1])
            except KeyboardInterrupt:
                fail("interrupted; what was captured before is stored; run the command "
                     "again for the rest", as_json, 130)
    failed = sum(1 for r in results if r["error"])
    if as_json:
        emit_json(results)
    elif len(urls) > 1 or failed:
        out.print(f"{len(urls) - failed} of {len(urls)} URLs captured without a problem.")
    if failed:
        raise typer.Exit(EXIT_FAILED)
