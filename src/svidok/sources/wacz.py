"""WACZ packages: a ZIP of WARC files with its own hashes, checked before it is trusted.

A WACZ is a ZIP. Its ``datapackage.json`` lists every member with a SHA-256 and a size;
each member is streamed (never extracted to disk, never read whole into memory) and
checked. Members that are missing, unlisted, ambiguous (a name twice), unsafe (absolute,
``..``) or that would expand beyond the caps (a zip bomb) are reported as problems; the
WARC files under ``archive/`` are then read as warc.py reads any WARC, straight from the ZIP.
"""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path, PurePosixPath
from typing import IO

from svidok.sources.problems import Problem
from svidok.sources.warc import (
    BLOCK,
    MAX_PAYLOAD,
    MAX_RECORD,
    REVISIT_CACHE,
    ArchiveError,
    Resolver,
    WebCapture,
    read_opened,
    warc_date,
)

WACZ_MAX_TOTAL = 256 * 1024 * 1024 * 1024  # uncompressed bytes of all members together
WACZ_MAX_RATIO = 200  # uncompressed / compressed size of one member
MAX_METADATA = 64 * 1024 * 1024  # datapackage.json, datapackage-digest.json
MAX_PAGE_LINE = 1024 * 1024  # one line of pages.jsonl
_WACZ_OWN = ("datapackage.json", "datapackage-digest.json")


@dataclass(frozen=True)
class WebPage:
    url: str
    title: str | None
    ts: str | None  # as pages.jsonl gives it
    captured_at: datetime | None  # ts read as UTC, when it can be


def read_wacz(path: Path, *, max_total: int = WACZ_MAX_TOTAL,
              max_ratio: float = WACZ_MAX_RATIO, max_payload: int = MAX_PAYLOAD,
              max_record: int = MAX_RECORD,
              revisit_cache: int = REVISIT_CACHE) -> Iterator[WebCapture | Problem]:
    """Check a WACZ's own hashes, then every capture of the WARC files under ``archive/``.

    Problems about the package (hash or size mismatches, missing, unlisted or unsafe
    members, members refused by the caps) come first, then the captures.
    """
    with _open_zip(path) as zf:
        members = _safe_members(zf, max_total, max_ratio)
        problems = members.problems
        yield from problems
        yield from _check_datapackage(zf, members.ok)
        resolver = Resolver(revisit_cache)
        warcs = sorted(name for name in members.ok
                       if name.startswith("archive/")
                       and name.lower().endswith((".warc", ".warc.gz")))
        for name in warcs:
            try:
                info = members.ok[name]
                yield from read_opened(partial(zf.open, info), name, name,
                                        resolver, max_payload, max_record)
            except ArchiveError as exc:
                yield Problem(name, str(exc).replace(f"{name} ", "", 1))
            except Exception as exc:  # a damaged member costs only itself
                yield Problem(name, f"cannot be read ({type(exc).__name__})")


def read_wacz_pages(path: Path, *, max_total: int = WACZ_MAX_TOTAL,
                    max_ratio: float = WACZ_MAX_RATIO) -> Iterator[WebPage | Problem]:
    """The pages a WACZ lists in ``pages/pages.jsonl`` (its table of contents)."""
    name = "pages/pages.jsonl"
    with _open_zip(path) as zf:
        members = _safe_members(zf, max_total, max_ratio)
        info = members.ok.get(name)
        if info is None:
            yield from (p for p in members.problems if p.where == name)
            return
        try:
            fh = zf.open(info)
        except Exception as exc:  # a damaged member costs only itself
            yield Problem(name, f"cannot be read ({type(exc).__name__})")
            return
        with fh:
            number = 0
            while True:
                try:
                    line = fh.readline(MAX_PAGE_LINE + 1)
                except Exception as exc:  # a damaged member costs only itself
                    yield Problem(name, f"cannot be read ({type(exc).__name__})")
                    return
                if not line:
                    return
                number += 1
                page = _page(line, number, name)
                if isinstance(page, Problem) and len(line) > MAX_PAGE_LINE:
                    yield page
                    return
                if page is not None:
                    yield page


def _page(line: bytes, number: int, name: str) -> WebPage | Problem | None:
    where = f"{name} line {number}"
    if len(line) > MAX_PAGE_LINE:
        return Problem(where, f"longer than {MAX_PAGE_LINE:,} bytes; reading stopped")
    if not line.strip():
        return None
    try:
        entry = json.loads(line)
    except (ValueError, UnicodeDecodeError):
        return Problem(where, "not a JSON object")
    if not isinstance(entry, dict):
        return Problem(where, "not a JSON object")
    if "format" in entry and "url" not in entry:  # the header line
        return None
    url = entry.get("url")
    if not isinstance(url, str):
        return Problem(where, "the page has no URL")
    title, ts = entry.get("title"), entry.get("ts")
    ts = ts if isinstance(ts, str) else None
    captured_at, _ = warc_date(ts) if ts else (None, None)
    if captured_at is None and ts and re.fullmatch(r"\d{14}", ts):
        captured_at = datetime.strptime(ts, "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    return WebPage(url, title if isinstance(title, str) else None, ts, captured_at)


def _open_zip(path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except OSError as exc:
        raise ArchiveError(f"cannot read {path.name}: {exc.strerror}") from None
    except (zipfile.BadZipFile, ValueError, EOFError):
        raise ArchiveError(f"{path.name} is not a WACZ: it is not a ZIP file") from None


@dataclass
class _Members:
    ok: dict[str, zipfile.ZipInfo]
    problems: list[Problem]


def _safe_members(zf: zipfile.ZipFile, max_total: int, max_ratio: float) -> _Members:
    ok: dict[str, zipfile.ZipInfo] = {}
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for info in zf.infolist():
        seen[info.filename] = seen.get(info.filename, 0) + 1
    total = 0
    for info in zf.infolist():
        name = info.filename
        if name.endswith("/"):
            continue
        if seen[name] > 1:
            if name not in ok and not any(p.where == name for p in problems):
                problems.append(Problem(name, f"the ZIP holds {seen[name]} members of this "
                                        "name; none is read"))
            continue
        if not _safe_name(name):
            problems.append(Problem(_shown(name), "unsafe member name (absolute, '..' or a "
                                    "drive); not read"))
            continue
        if info.flag_bits & 0x1:
            problems.append(Problem(name, "the member is encrypted; not read"))
            continue
        ratio = info.file_size / info.compress_size if info.compress_size else (
            0 if info.file_size == 0 else float("inf"))
        if ratio > max_ratio:
            problems.append(Problem(name, f"expands {info.file_size:,} bytes from "
                                    f"{info.compress_size:,} (over the ratio cap of "
                                    f"{max_ratio:g}); not read"))
            continue
        if total + info.file_size > max_total:
            problems.append(Problem(name, f"reading its {info.file_size:,} bytes would pass "
                                    f"the cap of {max_total:,} uncompressed bytes; not read"))
            continue
        total += info.file_size
        ok[name] = info
    return _Members(ok, problems)


def _safe_name(name: str) -> bool:
    if not name or "\x00" in name or "\\" in name or name.startswith("/"):
        return False
    if re.match(r"[A-Za-z]:", name):
        return False
    return ".." not in PurePosixPath(name).parts


def _shown(name: str) -> str:
    return name.encode("unicode_escape").decode("ascii")[:200]


def _check_datapackage(zf: zipfile.ZipFile,
                       members: dict[str, zipfile.ZipInfo]) -> Iterator[Problem]:
    where = "datapackage.json"
    info = members.get(where)
    if info is None:
        yield Problem(where, "the WACZ has no readable datapackage.json; its members "
                      "cannot be checked")
        return
    if info.file_size > MAX_METADATA:
        yield Problem(where, f"larger than {MAX_METADATA:,} bytes; not read")
        return
    try:
        raw = zf.read(info)
        package = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        yield Problem(where, "not valid JSON; the members cannot be checked")
        return
    except Exception as exc:  # a damaged member costs only itself
        yield Problem(where, f"cannot be read ({type(exc).__name__})")
        return
    yield from _check_digest_file(zf, members, raw)
    resources = package.get("resources") if isinstance(package, dict) else None
    if not isinstance(resources, list):
        yield Problem(where, "lists no resources; the members cannot be checked")
        return
    listed: set[str] = set()
    for number, resource in enumerate(resources):
        entry = _resource(resource)
        if entry is None:
            yield Problem(f"{where} resource {number}", "has no path, or a hash that is "
                          "not sha256")
            continue
        name, expected_hash, expected_size = entry
        listed.add(name)
        if not _safe_name(name):
            yield Problem(_shown(name), "unsafe path listed in datapackage.json; not read")
            continue
        info = members.get(name)
        if info is None:
            if name not in zf.NameToInfo:
                yield Problem(name, "listed in datapackage.json but not in the WACZ")
            continue  # present but refused: already reported
        try:
            digest, size = _hash_member(zf, info)
        except Exception as exc:  # a damaged member costs only itself
            yield Problem(name, f"cannot be read ({type(exc).__name__})")
            continue
        if expected_size is not None and size != expected_size:
            yield Problem(name, f"{size:,} bytes, but datapackage.json lists "
                          f"{expected_size:,}")
        if digest != expected_hash:
            yield Problem(name, "its SHA-256 does not match datapackage.json: the member "
                          "was changed or damaged after packaging")
    for name in members:
        if name not in listed and name not in _WACZ_OWN:
            yield Problem(name, "in the WACZ but not listed in datapackage.json")


def _check_digest_file(zf: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo],
                       datapackage: bytes) -> Iterator[Problem]:
    where = "datapackage-digest.json"
    info = members.get(where)
    if info is None:
        return
    try:
        if info.file_size > MAX_METADATA:
            raise ValueError
        entry = json.loads(zf.read(info))
        value = entry.get("hash") if isinstance(entry, dict) else None
    except Exception:  # a damaged member costs only itself
        yield Problem(where, "cannot be read")
        return
    if not isinstance(value, str) or not value.lower().startswith("sha256:"):
        yield Problem(where, "gives no sha256 hash of datapackage.json")
    elif value[7:].strip().lower() != hashlib.sha256(datapackage).hexdigest():
        yield Problem(where, "the SHA-256 of datapackage.json does not match it")


def _resource(resource: object) -> tuple[str, str, int | None] | None:
    """(path, sha256 hex, size) from WACZ 1.1 (``hash: "sha256:…", bytes``) or 1.0
    (``stats: {hash, bytes}, hashing: "sha256"``)."""
    if not isinstance(resource, dict) or not isinstance(resource.get("path"), str):
        return None
    stats = resource.get("stats")
    if isinstance(stats, dict) and "hash" in stats:
        value, size = stats.get("hash"), stats.get("bytes")
        if str(resource.get("hashing", "sha256")).lower() != "sha256":
            return None
        if isinstance(value, str) and not value.lower().startswith("sha256:"):
            value = "sha256:" + value
    else:
        value, size = resource.get("hash"), resource.get("bytes")
    if not isinstance(value, str) or not value.lower().startswith("sha256:"):
        return None
    hexdigest = value[7:].strip().lower()
    if not re.fullmatch(r"[0-9a-f]{64}", hexdigest):
        return None
    size = size if isinstance(size, int) and not isinstance(size, bool) else None
    return resource["path"], hexdigest, size


def _hash_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with zf.open(info) as fh:
        for block in _blocks(fh):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


def _blocks(fh: IO[bytes]) -> Iterable[bytes]:
    while block := fh.read(BLOCK):
        yield block
