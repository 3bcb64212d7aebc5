"""The log key: made once, private to its owner, refused when damaged or not this log's."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import pytest

from svidok.custody.keys import LogKeyError, create_key, key_path, load_signer


def test_made_once_readable_by_its_owner_only(tmp_path: Path) -> None:
    signer, made = create_key(tmp_path, "svidok.example.org/odesa")
    assert made
    assert stat.S_IMODE(key_path(tmp_path).stat().st_mode) == 0o600
    assert stat.S_IMODE(key_path(tmp_path).parent.stat().st_mode) == 0o700
    again, made_again = create_key(tmp_path, "svidok.example.org/odesa")
    assert not made_again and again == signer
    assert not list(key_path(tmp_path).parent.glob("*.tmp"))


def test_a_key_of_another_log_or_a_damaged_one_is_refused(tmp_path: Path) -> None:
    create_key(tmp_path, "svidok.example.org/odesa")
    with pytest.raises(LogKeyError, match=re.escape("is for 'svidok.example.org/odesa'")):
        load_signer(tmp_path, "svidok.example.org/lviv")
    key_path(tmp_path).write_text("PRIVATE+KEY+half-a-key\n")
    with pytest.raises(LogKeyError, match="damaged"):
        load_signer(tmp_path, "svidok.example.org/odesa")
    os.unlink(key_path(tmp_path))
    with pytest.raises(LogKeyError, match="svidok init"):
        load_signer(tmp_path, "svidok.example.org/odesa")


def test_a_name_that_cannot_sign_makes_no_key(tmp_path: Path) -> None:
    with pytest.raises(LogKeyError, match="no spaces"):
        create_key(tmp_path, "Odesa team")
    assert not key_path(tmp_path).exists()
