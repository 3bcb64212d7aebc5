"""Settings come in layers: defaults < svidok.toml in the data folder < SVIDOK_* variables."""

from __future__ import annotations

from pathlib import Path

import pytest

from svidok.config import DEFAULT_HOME, ConfigError, load_settings


def test_defaults_without_file_or_environment(tmp_path: Path) -> None:
    settings = load_settings(tmp_path, environ={})
    assert settings.home == tmp_path
    assert settings.database_url == ""
    assert settings.effective_database_url.startswith("sqlite:///")
    assert settings.fsync is True


def test_home_comes_from_svidok_home_then_default() -> None:
    assert load_settings(environ={"SVIDOK_HOME": "/srv/locker"}).home == Path("/srv/locker")
    assert load_settings(environ={}).home == DEFAULT_HOME


def test_file_overrides_defaults_and_environment_overrides_file(tmp_path: Path) -> None:
    (tmp_path / "svidok.toml").write_text('instance_name = "from-file"\ningest_workers = 3\n')
    assert load_settings(tmp_path, environ={}).ingest_workers == 3
    settings = load_settings(tmp_path, environ={"SVIDOK_INGEST_WORKERS": "5"})
    assert settings.ingest_workers == 5
    assert settings.instance_name == "from-file"


def test_unknown_key_in_file_is_an_error_not_ignored(tmp_path: Path) -> None:
    (tmp_path / "svidok.toml").write_text("ingest_wrokers = 3\n")
    with pytest.raises(ConfigError, match="ingest_wrokers"):
        load_settings(tmp_path, environ={})


@pytest.mark.parametrize(("env", "message"), [
    ({"SVIDOK_INGEST_WORKERS": "many"}, "must be a int"),
    ({"SVIDOK_INGEST_WORKERS": "0"}, "between 1 and 256"),
    ({"SVIDOK_FSYNC": "perhaps"}, "must be a bool"),
    ({"SVIDOK_INGEST_POOL": "fibers"}, "auto, threads or processes"),
    ({"SVIDOK_DATABASE_URL": "mysql://x"}, "sqlite:// or postgresql"),
])
def test_malformed_values_name_the_setting(tmp_path: Path, env: dict[str, str],
                                           message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(tmp_path, environ=env)


def test_broken_toml_says_which_file(tmp_path: Path) -> None:
    (tmp_path / "svidok.toml").write_text("instance_name = \n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(tmp_path, environ={})
