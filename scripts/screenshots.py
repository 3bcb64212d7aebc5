#!/usr/bin/env python3
"""Screenshots of the web app's main pages for the documentation (``make screenshots``).

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots] [--keep]

Builds the demo data folder the way ``make run`` does (in a temporary folder, with a fixed
instance name and a fixity check, so the dashboard has something to say), serves it on
127.0.0.1, signs in as an administrator with an authenticator code in Debian's headless
chromium, marks one picture verified with a note and uploads a new note, then saves a
1280-pixel-wide PNG of each page: sign-in, dashboard, evidence browser with facets, an item
with a picture and its proof checked, a post with its places marked and mapped, a video with
keyframes, upload, and the account.
Nothing is fetched from the internet. Each PNG is optimised with Pillow and reduced to a
palette when it would be larger than ``--max-kb``.

Shares the demo and the server with the end-to-end tests (tests/e2e/served.py). A page
that cannot be shot is named at the end and the exit status is 1; the others are saved.
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
import subprocess
import sys
import tempfile
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PIL import Image
from playwright.sync_api import Page, expect, sync_playwright

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from chromium import launch_options  # noqa: E402 -- needs the path above
from e2e.served import (  # noqa: E402
    Demo,
    Served,
    build_demo,
    clean_env,
    new_context,
    sign_in,
    svidok,
)

VIEWPORT_HEIGHT = 720  # a short page is shot this high; a longer one in full
MAX_HEIGHT = 2400  # a full page is cut here: the top of a long page shows what it is
WAIT_MS = 60_000
NOTE = "Matched against the channel's original post and a witness's letter."
INSTANCE = "demo.svidok.local"
# What the upload page shows being added: new to the demo, and made up like the rest of it.
UPLOAD_NAME = "field-note-2024-07-24.txt"
UPLOAD_TEXT = ("Made-up example. Field note, 24 July 2024: the checkpoint on the road out of "
               "Makiivka now stops every bus; two men were taken off and driven away.\n")


def items(demo: Demo) -> list[dict[str, Any]]:
    done = subprocess.run([sys.executable, "-m", "svidok", "--home", str(demo.home), "items",
                           "list", "--json", "--limit", "10000"], env=clean_env(demo.home),
                          capture_output=True, text=True, check=True, cwd=REPO)
    found: list[dict[str, Any]] = json.loads(done.stdout)["items"]
    return sorted(found, key=lambda item: int(item["id"]))


def first_of(found: list[dict[str, Any]], prefix: str) -> int:
    """The first stored item whose media type starts with ``prefix``, media of a post
    before loose files."""
    candidates = [i for i in found if (i.get("media_type") or "").startswith(prefix)
                  and i.get("state") == "stored"]
    candidates.sort(key=lambda i: (i.get("kind") != "media", int(i["id"])))
    if not candidates:
        raise LookupError(f"no {prefix}* item in the demo")
    return int(candidates[0]["id"])


def settle(page: Page) -> None:
    """Load lazy images (a full-page shot does not scroll to them) and wait for them."""
    page.evaluate("""() => { for (const img of document.images) img.loading = 'eager'; }""")
    page.wait_for_load_state("networkidle")
    page.wait_for_function(
        "() => Array.from(document.images).every(img => img.complete)", timeout=WAIT_MS)


def save(page: Page, path: Path, max_kb: int) -> None:
    settle(page)
    raw = page.screenshot(full_page=True, animations="disabled", caret="hide")
    picture: Image.Image = Image.open(io.BytesIO(raw)).convert("RGB")
    if picture.height > MAX_HEIGHT:
        picture = picture.crop((0, 0, picture.width, MAX_HEIGHT))
    data = _png(picture)
    if len(data) > max_kb * 1024:
        # Screens are mostly flat colour: a 256-colour palette keeps them sharp.
        data = _png(picture.quantize(colors=256, method=Image.Quantize.MEDIANCUT,
                                     dither=Image.Dither.FLOYDSTEINBERG))
    if len(data) > max_kb * 1024:
        data = _png(picture.quantize(colors=64, method=Image.Quantize.MEDIANCUT))
    path.write_bytes(data)
    print(f"  {path.relative_to(REPO) if path.is_relative_to(REPO) else path}: "
          f"{picture.width}x{picture.height}, {len(data) // 1024} KB")


def _png(picture: Image.Image) -> bytes:
    out = io.BytesIO()
    picture.save(out, format="PNG", optimize=True)
    return out.getvalue()


def shoot(base: str, demo: Demo, out: Path, max_kb: int, debug: bool = False) -> list[str]:
    """Save each page; return the names of those that could not be shot."""
    found = items(demo)
    picture_id = first_of(found, "image/")
    video_id = first_of(found, "video/")
    missing: list[str] = []
    with sync_playwright() as driver:
        browser = driver.chromium.launch(**launch_options())
        context = new_context(browser, height=VIEWPORT_HEIGHT)
        page = context.new_page()

        def step(name: str, action: Callable[[], None]) -> None:
            print(f"{name}:")
            try:
                action()
            except Exception as exc:
                missing.append(name)
                print(f"  not shot: {type(exc).__name__}: {str(exc).splitlines()[0]}")
                if debug:
                    traceback.print_exc()

        def sign_in_page() -> None:
            page.goto(f"{base}/sign-in")
            page.fill('input[name="name"]', demo.admin.name)
            save(page, out / "sign-in.png", max_kb)

        def dashboard() -> None:
            sign_in(page, base, demo.admin)
            expect(page.locator('form[action="/sign-out"]')).to_be_visible()
            save(page, out / "dashboard.png", max_kb)

        def browser_page() -> None:
            page.goto(f"{base}/search?q=Makeevka")
            expect(page.locator("a.hit-title").first).to_be_visible()
            save(page, out / "search.png", max_kb)

        def picture() -> None:
            page.goto(f"{base}/items/{picture_id}")
            form = page.locator("#status-form")
            if form.count():
                form.locator('select[name="status"]').select_option("verified")
                form.locator('textarea[name="note"]').fill(NOTE)
                form.locator('[type="submit"]').click()
                expect(page.locator('#history [data-status="verified"]').first).to_be_visible(
                    timeout=WAIT_MS)
                page.goto(f"{base}/items/{picture_id}")
            expect(page.locator("#proof-status")).to_have_attribute(
                "data-state", "verified", timeout=WAIT_MS)
            save(page, out / "item-picture.png", max_kb)
            if not form.count():
                raise LookupError("no #status-form on the item page yet (shot without it)")

        def message() -> None:
            page.goto(f"{base}/search?q=Makeevka")
            page.locator("a.hit-title").first.click()
            expect(page.locator(".text mark").first).to_be_visible()
            expect(page.locator("#proof-status")).to_have_attribute(
                "data-state", "verified", timeout=WAIT_MS)
            save(page, out / "item-message.png", max_kb)

        def video() -> None:
            page.goto(f"{base}/items/{video_id}")
            expect(page.locator(".keyframes img").first).to_be_visible()
            expect(page.locator("#proof-status")).to_have_attribute(
                "data-state", "verified", timeout=WAIT_MS)
            save(page, out / "item-video.png", max_kb)

        def upload() -> None:
            page.goto(f"{base}/upload")
            page.locator("input#upload-input").set_input_files(
                {"name": UPLOAD_NAME, "mimeType": "text/plain",
                 "buffer": UPLOAD_TEXT.encode("utf-8")})
            page.locator('#upload-form [type="submit"]').click()
            expect(page.locator("#upload-job")).to_have_attribute(
                "data-state", "done", timeout=WAIT_MS)
            save(page, out / "upload.png", max_kb)

        def account() -> None:
            page.goto(f"{base}/account")
            expect(page.locator("h1")).to_be_visible()
            save(page, out / "account.png", max_kb)

        for name, action in (("sign-in", sign_in_page), ("dashboard", dashboard),
                             ("evidence browser", browser_page),
                             ("item with a picture", picture),
                             ("message with places", message), ("video item", video),
                             ("upload", upload), ("account", account)):
            step(name, action)
        context.close()
        browser.close()
    return missing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    parser.add_argument("--max-kb", type=int, default=400, help="largest PNG, in KB")
    parser.add_argument("--keep", action="store_true",
                        help="keep the demo data folder and the server's log")
    parser.add_argument("--debug", action="store_true", help="tracebacks for pages not shot")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="svidok-screenshots-"))
    problems = ""
    try:
        print("Building the demo data folder (as make run does)…")
        demo = build_demo(work / "demo", name=INSTANCE)
        svidok(["verify"], demo.home, demo.log)  # as make run does: the dashboard shows it
        with Served(demo.home, work) as served:
            print(f"Serving it at {served.url}")
            missing = shoot(served.url, demo, args.out, args.max_kb, args.debug)
            problems = served.stderr().strip()
    finally:
        if args.keep:
            print(f"Kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    if problems:
        print("The server wrote to stderr:\n" + problems[-4000:], file=sys.stderr)
    if missing:
        print("Not shot: " + ", ".join(missing), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
