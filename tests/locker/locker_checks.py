"""What must hold in a data folder at every moment, however an ingest ended.

Shared by the resilience tests: a record never points at a missing or wrong blob, a file
path is preserved at most once, and no partial write is left once an ingest has finished.
Also: running the command in-process, so that an injected fault applies to it.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from typer.testing import CliRunner

from svidok.cli import app
from svidok.db.schema import batches, items, originals, sightings
from svidok.home import Home

# Wide enough that no table cell or message is folded across lines.
WIDE = {"COLUMNS": "400"}


@dataclass(frozen=True)
class Ran:
    """How a ``svidok`` command ended, as the user saw it."""

    code: int
    stdout: str
    stderr: str

    @property
    def said(self) -> str:
        """Everything printed, with line breaks and runs of spaces made single spaces."""
        return " ".join((self.stdout + " " + self.stderr).split())

    @property
    def rows(self) -> list[list[str]]:
        """The cells of every table row printed, e.g. ``["failed", "a.txt", "why"]``."""
        return [[cell.strip() for cell in line.strip().strip("│").split("│")]
                for line in self.stdout.splitlines() if line.startswith("│")]

    @classmethod
    def of(cls, done: subprocess.CompletedProcess[str]) -> Ran:
        return cls(done.returncode, done.stdout, done.stderr)


def svidok_command(args: list[str], env: dict[str, str], prefix: Sequence[str] = ()) -> Ran:
    """Run the real command in a subprocess, as a user would (``prefix``: e.g. setpriv)."""
    done = subprocess.run([*prefix, sys.executable, "-m", "svidok", *args],
                          env={**env, **WIDE}, text=True, capture_output=True, check=False,
                          timeout=300)
    return Ran.of(done)


def svidok_in_process(args: list[str]) -> Ran:
    """Run the real command inside the test process, so monkeypatched faults apply."""
    result = CliRunner().invoke(app, args, env=WIDE)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Ran(result.exit_code, result.stdout, result.stderr)


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_of_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def blob_files(home: Home) -> list[Path]:
    """Every blob in the store, recorded or not."""
    return [p for p in home.blobs.objects.rglob("*") if p.is_file()]


def part_files(home: Home) -> list[Path]:
    """Partial writes left in the blob store's temporary folder."""
    return sorted(home.blobs.temp_dir.glob("*.part"))


def assert_every_record_has_its_blob(home: Home) -> None:
    """Every original has a blob of the recorded size that hashes to its name, and every
    stored item points at an original."""
    with home.engine.connect() as conn:
        rows = conn.execute(select(originals.c.sha256, originals.c.size)).all()
        orphans = conn.execute(
            select(items.c.id, items.c.rel_path)
            .select_from(items.outerjoin(originals, items.c.sha256 == originals.c.sha256))
            .where(items.c.state == "stored", originals.c.sha256.is_(None))).all()
    assert orphans == [], f"stored items without an original: {orphans}"
    for sha, size in rows:
        blob = home.blobs.path_of(sha)
        assert blob.is_file(), f"original {sha} is recorded but its blob is missing"
        assert blob.stat().st_size == size, f"blob {sha} is not the recorded {size} bytes"
        assert sha256_of_file(blob) == sha, f"blob {sha} does not hash to its name"


def preserved_paths(home: Home, root: Path) -> Counter[str]:
    """How often each path under ``root`` is preserved: as a stored item or a sighting."""
    real = str(root.resolve())
    with home.engine.connect() as conn:
        stored = conn.scalars(select(items.c.rel_path).where(
            items.c.root == real, items.c.state == "stored")).all()
        seen = conn.scalars(select(sightings.c.rel_path).where(sightings.c.root == real)).all()
    return Counter([*stored, *seen])


def preserved_content(home: Home, root: Path) -> dict[str, str]:
    """The SHA-256 the locker holds for each preserved path under ``root``."""
    real = str(root.resolve())
    with home.engine.connect() as conn:
        stored = conn.execute(select(items.c.rel_path, items.c.sha256).where(
            items.c.root == real, items.c.state == "stored")).all()
        seen = conn.execute(
            select(sightings.c.rel_path, items.c.sha256)
            .select_from(sightings.join(items, sightings.c.item_id == items.c.id))
            .where(sightings.c.root == real)).all()
    return {rel_path: sha for rel_path, sha in [*stored, *seen]}


def item_states(home: Home) -> Counter[str]:
    with home.engine.connect() as conn:
        rows = conn.execute(select(items.c.state, func.count()).group_by(items.c.state))
        return Counter({str(state): int(n) for state, n in rows})


def count_rows(home: Home, table: str) -> int:
    chosen = {"originals": originals, "items": items, "sightings": sightings,
              "batches": batches}[table]
    with home.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(chosen)).scalar_one())
