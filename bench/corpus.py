"""Deterministic benchmark corpora: many files of one size, with seeded random content.

Every file holds different bytes, so Svidok stores each as a new original rather than a
sighting of an earlier one. Content is pseudo-random (incompressible, like photos and
video) and the same for a given seed, so two runs measure the same input.

A corpus lives in ``<workdir>/corpora/<name>/`` and is described by ``<name>.json`` next
to it (outside the folder that gets ingested, so the manifest is never part of the
measurement). The manifest is written last: a corpus whose generation was interrupted has
none and is generated again.

    .venv/bin/python bench/corpus.py            # generate the full corpora ahead of time
    .venv/bin/python bench/corpus.py --quick    # the small ones used by run.py --quick
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
DEFAULT_WORKDIR = BENCH_DIR / "out"
# Bump when the layout or the content scheme changes, so stale corpora are regenerated.
LAYOUT_VERSION = 1
DEFAULT_SEED = 20240601
# Real evidence folders hold hundreds of files per folder, not 50,000; a flat folder
# would also measure the file system's handling of huge directories, not ingest.
FILES_PER_FOLDER = 1000
# Big enough to keep write() calls cheap, small enough that generating a 5 GB file
# does not hold much memory.
WRITE_CHUNK = 8 * 1024 * 1024

KB = 1024  # binary: KiB, MiB, GiB everywhere in the benchmark
MB = 1024 * 1024
GB = 1024 * 1024 * 1024


@dataclass(frozen=True)
class CorpusSpec:
    name: str
    count: int
    size: int
    seed: int = DEFAULT_SEED

    @property
    def total_bytes(self) -> int:
        return self.count * self.size


@dataclass(frozen=True)
class Corpus:
    spec: CorpusSpec
    # The folder handed to ``cp -r`` and ``svidok ingest``.
    root: Path
    manifest: Path


def human_size(n: int) -> str:
    """Binary units throughout the benchmark: 4 KiB is the size of a page and a block."""
    for unit, factor in (("GiB", GB), ("MiB", MB), ("KiB", KB)):
        if n >= factor:
            return f"{n // factor}{unit}" if n % factor == 0 else f"{n / factor:.1f}{unit}"
    return f"{n}B"


def spec_named(kind: str, count: int, size: int, seed: int = DEFAULT_SEED) -> CorpusSpec:
    return CorpusSpec(f"{kind}-{count}x{human_size(size)}", count, size, seed)


def file_path(root: Path, index: int, count: int) -> Path:
    """Where file ``index`` of a corpus of ``count`` files lives."""
    name = f"f{index:06d}.bin"
    if count <= FILES_PER_FOLDER:
        return root / name
    return root / f"d{index // FILES_PER_FOLDER:04d}" / name


def _manifest_data(spec: CorpusSpec) -> dict[str, object]:
    return {"layout_version": LAYOUT_VERSION, "files_per_folder": FILES_PER_FOLDER,
            **asdict(spec)}


def _is_complete(corpus: Corpus) -> bool:
    try:
        recorded = json.loads(corpus.manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if recorded != _manifest_data(corpus.spec):
        return False
    # The manifest alone is not proof: someone may have deleted or edited files since.
    # Sizes are cheap to check; contents are not worth re-reading on every run.
    found = 0
    for _dirpath, _dirs, names in os.walk(corpus.root):
        found += len(names)
    if found != corpus.spec.count:
        return False
    step = max(1, corpus.spec.count // 100)
    for index in range(0, corpus.spec.count, step):
        try:
            if file_path(corpus.root, index, corpus.spec.count).stat().st_size != corpus.spec.size:
                return False
        except OSError:
            return False
    return True


def _write_file(path: Path, size: int, rng: random.Random) -> None:
    with open(path, "wb") as fh:
        left = size
        while left:
            n = min(left, WRITE_CHUNK)
            fh.write(rng.randbytes(n))
            left -= n


def _generate(corpus: Corpus, progress: bool) -> None:
    spec = corpus.spec
    corpus.manifest.unlink(missing_ok=True)
    if corpus.root.exists():
        shutil.rmtree(corpus.root)
    corpus.root.mkdir(parents=True)
    # A str seed is hashed with SHA-512, not hash(), so it is stable across processes.
    rng = random.Random(f"svidok-bench:{spec.name}:{spec.seed}")
    made_dirs: set[Path] = set()
    report_every = max(1, spec.count // 20)
    for index in range(spec.count):
        path = file_path(corpus.root, index, spec.count)
        if path.parent not in made_dirs:
            path.parent.mkdir(exist_ok=True)
            made_dirs.add(path.parent)
        _write_file(path, spec.size, rng)
        if progress and (index + 1) % report_every == 0:
            print(f"  {spec.name}: {index + 1}/{spec.count} files", file=sys.stderr, flush=True)
    # Flush the new files now, so their writeback does not run during a timed phase.
    os.sync()
    tmp = corpus.manifest.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(_manifest_data(spec), indent=2) + "\n", encoding="utf-8")
    tmp.replace(corpus.manifest)
    os.sync()


def corpus_for(spec: CorpusSpec, workdir: Path) -> Corpus:
    base = workdir / "corpora"
    return Corpus(spec, base / spec.name, base / f"{spec.name}.json")


def present(spec: CorpusSpec, workdir: Path) -> bool:
    """True if this corpus already exists, complete, and would be reused."""
    return _is_complete(corpus_for(spec, workdir))


def ensure(spec: CorpusSpec, workdir: Path, progress: bool = True) -> tuple[Corpus, bool]:
    """The corpus for ``spec``, generated unless a complete one is there; True if generated."""
    corpus = corpus_for(spec, workdir)
    if _is_complete(corpus):
        return corpus, False
    if progress:
        print(f"Generating corpus {spec.name} ({human_size(spec.total_bytes)}) "
              f"in {corpus.root} ...", file=sys.stderr, flush=True)
    _generate(corpus, progress)
    return corpus, True


def remove(spec: CorpusSpec, workdir: Path) -> None:
    corpus = corpus_for(spec, workdir)
    corpus.manifest.unlink(missing_ok=True)
    shutil.rmtree(corpus.root, ignore_errors=True)


@dataclass(frozen=True)
class Sizes:
    """The three corpora of one benchmark run."""

    large: CorpusSpec
    small: CorpusSpec
    big: CorpusSpec


def sizes(quick: bool, big_gb: float | None, seed: int = DEFAULT_SEED) -> Sizes:
    if quick:
        large = spec_named("large", 20, 1 * MB, seed)
        small = spec_named("small", 2_000, 4 * KB, seed)
        big_default = 200 * MB
    else:
        large = spec_named("large", 200, 10 * MB, seed)
        small = spec_named("small", 50_000, 4 * KB, seed)
        big_default = 5 * GB
    big_bytes = big_default if big_gb is None else int(big_gb * GB)
    return Sizes(large, small, spec_named("big", 1, big_bytes, seed))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR,
                        help=f"where corpora are kept (default {DEFAULT_WORKDIR})")
    parser.add_argument("--quick", action="store_true", help="the small smoke-run corpora")
    parser.add_argument("--big-gb", type=float, default=None,
                        help="size of the single big file in GiB (default 5; 200 MiB with --quick)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    chosen = sizes(args.quick, args.big_gb, args.seed)
    for spec in (chosen.large, chosen.small, chosen.big):
        corpus, made = ensure(spec, args.workdir.resolve())
        print(f"{spec.name}: {'generated' if made else 'reused'} {corpus.root}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
