"""The benchmark's Telegram export generator (bench/telegram_export.py) stays a valid export:
Svidok's own reader reads every message of it, with no problem, and finds every media file."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pytest

from svidok.sources.documents import read_document
from svidok.sources.telegram import Message, Problem, read_export

BENCH = Path(__file__).resolve().parent.parent / "bench"


def _digest(folder: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        h.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def test_generated_export_reads_clean(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(BENCH))
    import telegram_export

    stats = telegram_export.generate(tmp_path / "a", messages=50, media=5)
    assert stats.messages == 50
    assert stats.media_files == 5

    found = list(read_export(tmp_path / "a" / "result.json"))
    problems = [f for f in found if isinstance(f, Problem)]
    messages = [f for f in found if isinstance(f, Message)]
    assert problems == []
    assert len(messages) == 50
    assert len({m.id for m in messages}) == 50
    assert {m.kind for m in messages} <= {"message", "service"}
    assert all(m.time_source == "utc" for m in messages)

    named = [media.path for m in messages for media in m.media if media.path is not None]
    assert all((tmp_path / "a" / path).is_file() for path in named)
    on_disk = {str(p.relative_to(tmp_path / "a")) for p in (tmp_path / "a").rglob("*")
               if p.is_file() and p.name != "result.json"}
    assert sorted(named) == sorted(on_disk)  # every file named once, none left over
    assert len(on_disk) == 5
    contents = {(tmp_path / "a" / p).read_bytes() for p in on_disk}
    assert len(contents) == 5  # distinct bytes: each is a new original, not a sighting

    # Seeded: the same arguments make the same export, byte for byte.
    telegram_export.generate(tmp_path / "b", messages=50, media=5)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")


def test_refuses_more_media_than_messages(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(BENCH))
    import telegram_export

    with pytest.raises(ValueError, match="media"):
        telegram_export.generate(tmp_path, messages=3, media=4)


def test_generated_documents_read_clean(tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Documents in files/ are valid of their kind, as in a real export: an importer that
    reads them must not see damage that only the generator put there."""
    monkeypatch.syspath_prepend(str(BENCH))
    import telegram_export

    telegram_export.generate(tmp_path, messages=2_000, media=400)
    documents = sorted((tmp_path / "files").iterdir())
    kinds = {p.suffix for p in documents}
    assert {".pdf", ".docx", ".txt", ".zip"} <= kinds
    for path in documents:
        if path.suffix == ".zip":
            with zipfile.ZipFile(path) as zf:
                assert zf.testzip() is None
            continue
        doc = read_document(path)
        assert doc.problems == ()
        assert "svidok-bench" in doc.text or path.stem.replace("_", " ") in doc.text
