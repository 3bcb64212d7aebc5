"""Settings come in layers: defaults < svidok.toml in the data folder < SVIDOK_* variables."""

from __future__ import annotations

import os
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


def test_timestamping_is_off_by_default(tmp_path: Path) -> None:
    settings = load_settings(tmp_path, environ={})
    assert settings.tsa_urls == ()
    assert settings.tsa_timeout_seconds == 10
    assert settings.tsa_roots == ()


def test_tsa_settings_from_file_and_roots_relative_to_data_folder(tmp_path: Path) -> None:
    (tmp_path / "svidok.toml").write_text(
        'tsa_urls = ["https://tsa.example.org/tsr", "http://127.0.0.1:8080"]\n'
        "tsa_timeout_seconds = 30\n"
        'tsa_roots = ["trust/root.pem", "/etc/svidok/other root.pem"]\n')
    settings = load_settings(tmp_path, environ={})
    assert settings.tsa_urls == ("https://tsa.example.org/tsr", "http://127.0.0.1:8080")
    assert settings.tsa_timeout_seconds == 30
    assert settings.tsa_root_files == (tmp_path / "trust" / "root.pem",
                                       Path("/etc/svidok/other root.pem"))


def test_tsa_urls_from_environment_split_on_commas_and_spaces(tmp_path: Path) -> None:
    (tmp_path / "svidok.toml").write_text('tsa_urls = ["https://from-file.example"]\n')
    env = {"SVIDOK_TSA_URLS": " https://a.example/tsr, http://b.example:318\n,https://c.example ",
           "SVIDOK_TSA_ROOTS": f"/etc/my roots/a.pem{os.pathsep}b.pem"}
    settings = load_settings(tmp_path, environ=env)
    assert settings.tsa_urls == ("https://a.example/tsr", "http://b.example:318",
                                 "https://c.example")
    assert settings.tsa_roots == ("/etc/my roots/a.pem", "b.pem")
    assert load_settings(tmp_path, environ={"SVIDOK_TSA_URLS": ""}).tsa_urls == ()


@pytest.mark.parametrize(("env", "message"), [
    ({"SVIDOK_TSA_URLS": "ftp://tsa.example"}, "entry 1 'ftp://tsa.example' must be an http"),
    ({"SVIDOK_TSA_URLS": "https://ok.example tsa.example/tsr"}, "entry 2 .* must be an http"),
    ({"SVIDOK_TSA_URLS": "https://"}, "must be an http:// or https:// URL with a host"),
    ({"SVIDOK_TSA_URLS": "http://tsa.example:port"}, "is not a valid URL"),
    ({"SVIDOK_TSA_TIMEOUT_SECONDS": "0"}, "between 1 and 300"),
    ({"SVIDOK_TSA_TIMEOUT_SECONDS": "301"}, "between 1 and 300"),
    ({"SVIDOK_TSA_TIMEOUT_SECONDS": "ten"}, "must be a int"),
])
def test_malformed_tsa_settings_name_the_setting(tmp_path: Path, env: dict[str, str],
                                                 message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(tmp_path, environ=env)


@pytest.mark.parametrize(("toml", "message"), [
    ("tsa_urls = 3\n", "'tsa_urls' must be a list of strings, got 3"),
    ('tsa_urls = ["https://a.example", 3]\n', "must be a list of strings"),
    ('tsa_urls = ["https://a.example/x y"]\n', "must not contain spaces"),
    ('tsa_roots = [""]\n', "tsa_roots must not hold empty paths"),
])
def test_malformed_tsa_settings_in_file(tmp_path: Path, toml: str, message: str) -> None:
    (tmp_path / "svidok.toml").write_text(toml)
    with pytest.raises(ConfigError, match=message):
        load_settings(tmp_path, environ={})


@pytest.mark.parametrize(("url", "message"), [
    ("https://me:s3cret@tsa.example/tsr", "'https://tsa.example/tsr' holds a user name or pass"),
    ("ftp://me:s3cret@tsa.example", "'ftp://tsa.example' holds a user name"),
    ("http://me:s3cret@tsa.example:port", "is not a valid URL"),
])
def test_a_password_in_a_tsa_url_is_refused_without_echoing_it(tmp_path: Path, url: str,
                                                               message: str) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        load_settings(tmp_path, environ={"SVIDOK_TSA_URLS": url})
    assert "s3cret" not in str(caught.value)
