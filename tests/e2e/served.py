"""A demo Svidok served on 127.0.0.1 for a real browser: the end-to-end tests and
``scripts/screenshots.py`` share it.

``build_demo`` does what ``make run`` does (init, then ingest the sample evidence with
enrichment) and adds three people with known passwords: an administrator with an
authenticator app enrolled, an analyst and a documenter. ``Served`` runs ``svidok serve``
on a free port as a subprocess, waits until it answers, and keeps its stderr for failure
messages. ``Person.code()`` gives a TOTP code the server has not seen yet (it refuses a code
twice), waiting for the next 30-second step when the ones it would accept are used up.

Everything runs on the embedded default (SQLite in the data folder): ``SVIDOK_*`` settings
of the calling environment are left out, so a developer's own configuration cannot leak in.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import pyotp
from playwright.sync_api import Browser, BrowserContext, Page

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "examples" / "sample-evidence"
PASSWORD = "correct horse battery staple"  # a made-up test password
WIDTH, HEIGHT = 1280, 900
STEP = 30  # seconds per TOTP step (RFC 6238, as svidok.access.totp uses)
START_SECONDS = 60.0
COMMAND_SECONDS = 600.0


@dataclass
class Person:
    """Someone who signs in: name, role, password and, if enrolled, the TOTP secret."""

    name: str
    role: str
    password: str = PASSWORD
    totp_secret: str | None = None
    _last_step: int = field(default=-1, repr=False)

    def code(self) -> str:
        """A code for a time step after every one handed out before: the server accepts
        a step one early or late, never one at or before the last it accepted."""
        if self.totp_secret is None:
            return ""
        totp = pyotp.TOTP(self.totp_secret)
        now_step = int(time.time()) // STEP
        step = max(now_step - 1, self._last_step + 1)
        # The server takes at most one step ahead of its clock: wait for the clock if needed.
        while step > int(time.time()) // STEP + 1:
            time.sleep(0.5)
        self._last_step = step
        return totp.generate_otp(step)

    def wrong_code(self) -> str:
        """A well-formed code the server refuses: one for a step far outside its window."""
        if self.totp_secret is None:
            return "123456"
        totp = pyotp.TOTP(self.totp_secret)
        now_step = int(time.time()) // STEP
        valid = {totp.generate_otp(s) for s in range(now_step - 2, now_step + 3)}
        for step in range(now_step - 100, now_step - 10):
            candidate = totp.generate_otp(step)
            if candidate not in valid:
                return candidate
        raise AssertionError("no wrong code found")  # not reachable in practice


@dataclass
class Demo:
    home: Path
    admin: Person
    analyst: Person
    documenter: Person
    log: Path  # what init and ingest printed


def clean_env(home: Path) -> dict[str, str]:
    """The environment for a svidok subprocess on ``home``, with no other SVIDOK_ setting."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SVIDOK_")}
    env["SVIDOK_HOME"] = str(home)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


@contextmanager
def _own_settings(home: Path) -> Iterator[None]:
    """Open the data folder in this process with only its own settings."""
    saved = {k: v for k, v in os.environ.items() if k.startswith("SVIDOK_")}
    for key in saved:
        del os.environ[key]
    os.environ["SVIDOK_HOME"] = str(home)
    try:
        yield
    finally:
        del os.environ["SVIDOK_HOME"]
        os.environ.update(saved)


def svidok(args: list[str], home: Path, log: Path) -> None:
    """Run the real command as ``make run`` does; its output goes to ``log``."""
    with log.open("a", encoding="utf-8") as out:
        out.write(f"$ svidok {' '.join(args)}\n")
        out.flush()
        done = subprocess.run([sys.executable, "-m", "svidok", "--home", str(home), *args],
                              env=clean_env(home), stdout=out, stderr=subprocess.STDOUT,
                              timeout=COMMAND_SECONDS, check=False, cwd=REPO)
    if done.returncode != 0:
        raise RuntimeError(f"svidok {' '.join(args)} failed ({done.returncode}):\n"
                           + log.read_text(encoding="utf-8")[-4000:])


def build_demo(root: Path, name: str | None = None) -> Demo:
    """A data folder with the sample evidence ingested and enriched, and its people;
    ``name`` is the instance's name (``make run`` leaves it to ``svidok init``)."""
    root.mkdir(parents=True, exist_ok=True)
    home = root / "home"
    log = root / "demo.log"
    svidok(["init", *(["--name", name] if name else [])], home, log)
    svidok(["ingest", str(SAMPLE), "--collector", "demo", "--note",
            "sample evidence shipped with Svidok", "--enrich"], home, log)
    admin = Person("admin", "admin")
    analyst = Person("olena", "analyst")
    documenter = Person("taras", "documenter")
    _add_people(home, admin, analyst, documenter)
    return Demo(home=home, admin=admin, analyst=analyst, documenter=documenter, log=log)


def _add_people(home: Path, admin: Person, *others: Person) -> None:
    from svidok.access import add_user, get_user
    from svidok.access import totp as second_factor
    from svidok.home import open_home

    with _own_settings(home):
        opened = open_home(home)
    try:
        for person in (admin, *others):
            # With a password given there is no one-time password to replace.
            user, _ = add_user(opened.engine, person.name, person.role, person.password)
            assert not user.must_change_password
        secret, _uri = second_factor.begin_enrolment(opened.engine, admin.name)
        admin.totp_secret = secret
        # Confirm with the code of the step before: the server then still takes this
        # step's code and the next one's for the first sign-ins.
        confirming_step = int(time.time()) // STEP - 1
        second_factor.confirm_enrolment(opened.engine, admin.name,
                                        pyotp.TOTP(secret).generate_otp(confirming_step))
        admin._last_step = confirming_step
        enrolled = get_user(opened.engine, admin.name)
        assert enrolled is not None and enrolled.totp_enabled
    finally:
        opened.dispose()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Served:
    """``svidok serve`` on 127.0.0.1 as a subprocess; a context manager."""

    def __init__(self, home: Path, log_dir: Path) -> None:
        self.home = home
        self.stderr_path = log_dir / "serve.stderr"
        self.stdout_path = log_dir / "serve.stdout"
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stderr(self) -> str:
        if not self.stderr_path.exists():
            return ""
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    def start(self) -> Served:
        for _attempt in range(3):  # another program may take the port between probe and bind
            self.port = free_port()
            with self.stdout_path.open("ab") as out, self.stderr_path.open("ab") as err:
                self.process = subprocess.Popen(
                    [sys.executable, "-m", "svidok", "--home", str(self.home), "serve",
                     "--host", "127.0.0.1", "--port", str(self.port)],
                    env=clean_env(self.home), stdout=out, stderr=err, cwd=REPO)
            if self._wait_until_answering():
                return self
        raise RuntimeError(f"svidok serve did not start:\n{self.stderr()[-4000:]}")

    def _wait_until_answering(self) -> bool:
        assert self.process is not None
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                with urllib.request.urlopen(f"{self.url}/sign-in", timeout=5) as answer:
                    if answer.status == 200:
                        return True
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.2)
        self.stop()
        return False

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=15)

    def __enter__(self) -> Served:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop()


def new_context(browser: Browser, height: int = HEIGHT) -> BrowserContext:
    """A fresh profile 1280 pixels wide, in English and UTC, as the screenshots show it."""
    context = browser.new_context(viewport={"width": WIDTH, "height": height},
                                  locale="en-GB", timezone_id="UTC")
    context.set_default_timeout(30_000)
    return context


def sign_in(page: Page, base: str, person: Person, code: str | None = None) -> None:
    """Fill in the sign-in form as a person does; ``code`` defaults to a fresh TOTP code
    (empty for someone without an authenticator app)."""
    page.goto(f"{base}/sign-in")
    page.fill('input[name="name"]', person.name)
    page.fill('input[name="password"]', person.password)
    page.fill('input[name="code"]', person.code() if code is None else code)
    page.locator('form[action="/sign-in"] [type="submit"]').click()
    page.wait_for_load_state()
