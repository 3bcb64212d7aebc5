"""An administrator's day in the web app, in a real browser, one step per test: sign in with
a TOTP code (a wrong one first), the dashboard, a search across scripts, an item's custody
proof checked in the browser, an upload, a status change in the history, and signing out.

The steps share one browser profile (signed in by the first step) and run in the order
written; each goes to its own starting page, so a step that fails does not hide the rest.
"""

from __future__ import annotations

import io
import re
import secrets
from collections.abc import Iterator

import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import Browser, FilePayload, Page, expect

from e2e.served import Demo, Person, Served, new_context, sign_in

pytestmark = pytest.mark.e2e

# Shared by the steps: the item the search opened.
journey: dict[str, str] = {}
SEARCH_WORD = "Makeevka"
# The sample posts spell the town in Ukrainian and in Russian; either is a right answer.
TOWN = re.compile(r"Макіївк|Макеевк|Makiivk|Makeevk", re.IGNORECASE)
NOTE = "Matched against the witness's letter and the channel's original post."


@pytest.fixture(scope="module")
def admin_page(browser: Browser, server: Served) -> Iterator[Page]:
    context = new_context(browser)
    try:
        yield context.new_page()
    finally:
        context.close()


def first_hit(page: Page, base_url: str) -> str:
    """Search for the town by its Russian transliteration and return the first hit's path."""
    page.goto(f"{base_url}/search")
    page.fill('input[name="q"]', SEARCH_WORD)
    page.press('input[name="q"]', "Enter")
    # The page lists everything before the search: wait for the search's own answer (htmx
    # puts it in the address once it has swapped the results in).
    expect(page).to_have_url(re.compile(rf"/search\?(.*&)?q={SEARCH_WORD}"))
    expect(page.locator(".hits li").first).to_contain_text(TOWN)
    hit = page.locator("a.hit-title").first
    expect(hit).to_be_visible()
    href = hit.get_attribute("href")
    assert href is not None and re.fullmatch(r"/items/\d+", href), href
    return href


def the_item(page: Page, base_url: str) -> str:
    return journey.get("item") or first_hit(page, base_url)


def test_01_sign_in_refuses_a_wrong_code_then_lets_the_admin_in(
        admin_page: Page, base_url: str, demo: Demo) -> None:
    page = admin_page
    page.goto(f"{base_url}/")
    expect(page).to_have_url(re.compile(r"/sign-in\?next="))

    sign_in(page, base_url, demo.admin, code=demo.admin.wrong_code())
    expect(page.get_by_role("alert")).to_contain_text("Wrong name, password or code")
    expect(page.locator('form[action="/sign-out"]')).to_have_count(0)

    sign_in(page, base_url, demo.admin)
    expect(page).to_have_url(f"{base_url}/")
    expect(page.locator('form[action="/sign-out"] [type="submit"]')).to_be_visible()
    expect(page.locator("header")).to_contain_text(demo.admin.name)


def test_02_dashboard_shows_counts(admin_page: Page, base_url: str) -> None:
    page = admin_page
    page.goto(f"{base_url}/")
    cards = page.locator(".cards")
    expect(cards).to_contain_text("message")  # items by kind, each a link to the browser
    expect(cards.locator('a[href="/search?kind=message"]')).to_be_visible()
    counts = [int(text.replace(",", "")) for text in cards.locator("td.num").all_inner_texts()
              if text.strip()]
    assert counts and max(counts) > 0, counts
    expect(cards).to_contain_text("originals")


def test_03_search_finds_the_town_in_any_script_and_opens_a_hit(
        admin_page: Page, base_url: str) -> None:
    page = admin_page
    href = first_hit(page, base_url)
    expect(page.locator(".hits")).to_contain_text(TOWN)
    expect(page.locator(".facets")).to_be_visible()
    page.locator("a.hit-title").first.click()
    expect(page).to_have_url(f"{base_url}{href}")
    expect(page.locator("h1")).to_contain_text(f"item {href.rsplit('/', 1)[1]}")
    journey["item"] = href


def test_04_item_page_checks_its_proof_in_the_browser(admin_page: Page, base_url: str) -> None:
    page = admin_page
    page.goto(f"{base_url}{the_item(page, base_url)}")
    status = page.locator("#proof-status")
    expect(status).to_have_attribute("data-state", "verified", timeout=60_000)
    expect(page.locator("#proof-steps li").first).to_be_visible()


def _new_png() -> bytes:
    """A small picture no one has uploaded before (a random stripe makes its bytes new)."""
    picture = Image.new("RGB", (160, 90), "#f4efe6")
    draw = ImageDraw.Draw(picture)
    draw.rectangle((10, 30, 150, 60), fill="#" + secrets.token_hex(3))
    draw.text((14, 38), "e2e upload", fill="#000000")
    out = io.BytesIO()
    picture.save(out, format="PNG")
    return out.getvalue()


def test_05_upload_a_file_and_see_it_appear(admin_page: Page, base_url: str) -> None:
    page = admin_page
    page.goto(f"{base_url}/")
    page.locator('header a[href="/upload"]').click()
    expect(page).to_have_url(f"{base_url}/upload")
    expect(page.locator("#drop-zone")).to_be_visible()
    token = secrets.token_hex(8)
    files: list[FilePayload] = [
        {"name": f"field-note-{token}.txt", "mimeType": "text/plain",
         "buffer": f"Field note {token}: a checkpoint on the road to Makiivka.\n".encode()},
        {"name": f"sketch-{token}.png", "mimeType": "image/png", "buffer": _new_png()},
    ]
    page.locator("input#upload-input").set_input_files(files)
    expect(page.locator("#drop-zone")).to_contain_text(f"sketch-{token}.png")
    page.locator('#upload-form [type="submit"]').click()
    job = page.locator("#upload-job")
    expect(job).to_have_attribute("data-state", "done", timeout=120_000)
    expect(page.locator("progress#upload-progress")).to_be_attached()
    links = job.locator('a[href^="/items/"]')
    assert links.count() >= 2, job.inner_html()
    expect(page.locator("#upload-results")).to_contain_text(token)
    first = links.first.get_attribute("href")
    links.first.click()
    expect(page).to_have_url(f"{base_url}{first}")
    expect(page.locator("h1")).to_contain_text(token)


def test_06_change_a_status_and_see_it_in_the_history(admin_page: Page, base_url: str) -> None:
    page = admin_page
    page.goto(f"{base_url}{the_item(page, base_url)}")
    form = page.locator("#status-form")
    form.locator('select[name="status"]').select_option("verified")
    form.locator('textarea[name="note"]').fill(NOTE)
    form.locator('[type="submit"]').click()
    change = page.locator('#history [data-status="verified"]')
    expect(change).to_be_visible()
    expect(change.first).to_contain_text(NOTE)
    # It is recorded, not just shown: it is still there when the page is loaded again.
    page.reload()
    expect(page.locator('#history [data-status="verified"]').first).to_contain_text(NOTE)


def test_07_sign_out_closes_the_app(admin_page: Page, base_url: str) -> None:
    page = admin_page
    page.goto(f"{base_url}/")
    page.locator('form[action="/sign-out"] [type="submit"]').click()
    expect(page).to_have_url(re.compile(r"/sign-in"))
    page.goto(f"{base_url}/")
    expect(page).to_have_url(re.compile(r"/sign-in\?next="))
    page.goto(f"{base_url}/search?q={SEARCH_WORD}")
    expect(page).to_have_url(re.compile(r"/sign-in\?next="))
    expect(page.locator("a.hit-title")).to_have_count(0)


def test_an_analyst_sees_no_upload(page: Page, base_url: str, demo: Demo) -> None:
    analyst: Person = demo.analyst
    sign_in(page, base_url, analyst)
    expect(page).to_have_url(f"{base_url}/")
    expect(page.locator('form[action="/sign-out"]')).to_be_visible()
    expect(page.locator('a[href="/upload"]')).to_have_count(0)
    answer = page.goto(f"{base_url}/upload")
    assert answer is not None and answer.status == 403, answer and answer.status


def test_a_documenter_finds_the_upload_page(page: Page, base_url: str, demo: Demo) -> None:
    sign_in(page, base_url, demo.documenter)
    expect(page).to_have_url(f"{base_url}/")
    page.locator('header a[href="/upload"]').click()
    expect(page).to_have_url(f"{base_url}/upload")
    expect(page.locator("input#upload-input")).to_be_attached()
    expect(page.locator("#drop-zone")).to_be_visible()
