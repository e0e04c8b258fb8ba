"""The dashboard in a real browser: Playwright driving Debian's chromium against a real
bridge process (`flask serve`) and the Freshchat stand-in. Screenshots go to
test-artifacts/browser/.

Never `playwright install`: the browser is the distribution's (`apt-get install chromium`;
.ci/run does it). Without it the tests skip locally and fail in CI.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import uuid
from pathlib import Path

import pytest
from bridge_process import ROOT, BridgeProcess

from opencx_bridge.standin import Standin
from opencx_bridge.standin.seed import AI_EMAIL, seed

ARTIFACTS = ROOT / "test-artifacts" / "browser"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--disable-component-update", "--no-first-run",
        "--disable-sync"]
EMAIL, PASSWORD = "lead@example.com", "correct horse battery"
TIMEOUT_MS = 10_000


def _unavailable(reason: str):
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI must run the browser tests: .ci/run installs chromium)",
                    pytrace=False)
    pytest.skip(reason, allow_module_level=True)


try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    _unavailable("playwright is not installed: pip install -e '.[test]'")

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists()
                                       else None)
if CHROMIUM is None:  # pragma: no cover - depends on the machine
    _unavailable("Debian's chromium is not installed: apt-get install chromium")


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def st():
    with Standin() as standin:
        seed(standin)
        yield standin


@pytest.fixture(scope="module")
def bridge(tmp_path_factory, st):
    """A connected bridge with an admin; Freshchat posts its webhooks to it."""
    process = BridgeProcess(tmp_path_factory.mktemp("browser-bridge"), st)
    key_file = process.folder / "public_key.txt"
    key_file.write_text(st.public_key_text)
    process.cli("users", "create", EMAIL, "--role", "admin", "--password", PASSWORD)
    connected = process.cli("freshchat", "connect", "--domain", "acme.freshchat.com",
                            "--token", st.token, "--agent-email", AI_EMAIL, "--auto-handle-all",
                            "--public-key-file", str(key_file))
    st.webhook_url = connected.stdout.split("webhook URL: ")[1].split()[0]
    process.start()
    yield process
    process.stop()


class Tab:
    """A page with its console errors remembered and screenshots named after the test."""

    def __init__(self, page, name: str):
        self.page, self.name, self.errors = page, name, []
        page.set_default_timeout(TIMEOUT_MS)
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    def _console(self, message) -> None:
        """Script errors, CSP violations and missing assets; not the 4xx status of a page
        itself (a form with errors answers 422) nor the favicon the browser guesses."""
        where = (message.location or {}).get("url", "")
        expected = where.endswith("/favicon.ico") or (
            where == self.page.url and message.text.startswith("Failed to load resource"))
        if message.type == "error" and not expected:
            self.errors.append(f"{message.text} ({where})")

    def shot(self, step: str) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"{self.name}-{step}.png"), full_page=True)


@pytest.fixture
def tab(browser, request):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = Tab(context.new_page(), request.node.name)
    yield tab
    try:
        tab.shot("final")
    finally:
        context.close()
    assert tab.errors == [], f"console errors (a CSP violation?): {tab.errors}"


def sign_in(tab: Tab, bridge: BridgeProcess, email: str = EMAIL, password: str = PASSWORD):
    tab.page.goto(bridge.url + "/login")
    tab.page.get_by_label("Email").fill(email)
    tab.page.get_by_label("Password").fill(password)
    tab.page.get_by_role("button", name="Sign in").click()
    expect(tab.page.locator("header.top")).to_contain_text(email)


@pytest.fixture
def signed_in(tab, bridge) -> Tab:
    sign_in(tab, bridge)
    return tab


def new_chat(st, text: str) -> tuple[dict, str]:
    """A customer with a unique email writes; Freshchat posts the signed webhook."""
    email = f"casey.{uuid.uuid4().hex[:8]}@example.com"
    user = st.add_user(email=email, first_name="Casey", last_name="Customer")
    conversation = st.add_conversation(user["id"])
    st.customer_says(conversation["conversation_id"], text)
    return conversation, email


def freshchat_link(conversation: dict) -> str:
    return (f"https://acme.freshchat.com/a/{conversation['app_id']}/open/conversation/"
            f"{conversation['conversation_id']}")


# the tests --------------------------------------------------------------------------------

def test_first_admin_setup_creates_the_admin_and_signs_in(tab, tmp_path, st):
    fresh = BridgeProcess(tmp_path, st).start()
    try:
        page = tab.page
        page.goto(fresh.url + "/")
        expect(page).to_have_url(re.compile(r"/setup$"))
        expect(page.get_by_role("heading", name="Create the first admin")).to_be_visible()
        tab.shot("setup")
        page.get_by_label("Email").fill("first@example.com")
        page.get_by_label("Password", exact=True).fill("short")
        page.get_by_label("Repeat password").fill("short")
        page.get_by_role("button", name="Create admin").click()
        expect(page.locator(".field.has-error .error").first).to_contain_text("at least")
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_label("Repeat password").fill(PASSWORD)
        page.get_by_role("button", name="Create admin").click()
        expect(page).to_have_url(re.compile(r"/settings/freshchat$"))
        expect(page.get_by_role("status").first).to_contain_text("Welcome!")
        expect(page.locator("header.top")).to_contain_text("first@example.com (admin)")
        tab.shot("signed-in")
        page.goto(fresh.url + "/setup")
        expect(page).not_to_have_url(re.compile(r"/setup$"))  # shown once only
    finally:
        fresh.stop()


def test_sign_out_then_sign_in_again(signed_in, bridge):
    page = signed_in.page
    page.goto(bridge.url + "/")
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login"))
    expect(page.get_by_role("status").first).to_contain_text("Signed out.")
    page.goto(bridge.url + "/")
    expect(page).to_have_url(re.compile(r"/login\?next=/$"))
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill("wrong password!")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#password-error")).to_have_text("Wrong email or password.")
    signed_in.shot("wrong-password")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(bridge.url + "/")
    expect(page.get_by_role("heading", name="Inbox")).to_be_visible()


def test_a_domain_with_a_path_shows_the_inline_error(signed_in, bridge):
    page = signed_in.page
    page.goto(bridge.url + "/settings/freshchat")
    domain = page.get_by_label("Freshchat domain")
    domain.fill("acme.freshchat.com/a/12345")
    page.get_by_role("button", name="Test & Save").click()
    expect(page.locator("#domain-error")).to_contain_text("no path, port or spaces")
    expect(page.get_by_label("Freshchat domain")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_role("status").first).to_contain_text("Nothing was saved")
    signed_in.shot("domain-error")
    assert bridge.query("SELECT domain FROM integration")[0][0] == "acme.freshchat.com"


def test_a_new_session_appears_in_the_inbox_without_a_reload(signed_in, bridge, st):
    page = signed_in.page
    page.goto(bridge.url + "/")
    expect(page.locator("#inbox-live")).to_have_attribute("hx-trigger", "every 3s")
    loads = []
    page.on("load", lambda _: loads.append(page.url))
    conversation, email = new_chat(st, "Hello, is anyone there?")
    row = page.locator("#inbox-live tbody tr", has_text=email)
    expect(row).to_be_visible(timeout=8_000)  # the 3 s poll, plus the worker
    expect(row.locator(".badge")).to_have_text(re.compile("AI handling|handed off"))
    expect(row.get_by_role("link", name="Open")).to_have_attribute(
        "href", freshchat_link(conversation))
    assert loads == [], f"the page reloaded: {loads}"
    signed_in.shot("live-row")
    bridge.settle()
    with page.expect_response(lambda r: "/inbox/rows?" in r.url and "seen=" in r.url
                              and r.status == 204, timeout=8_000):
        pass  # once it shows the latest state, the poll sends its digest and gets 204


def test_search_by_conversation_id_finds_the_session_and_its_email(signed_in, bridge, st):
    conversation, email = new_chat(st, "Where is my parcel?")
    cid = conversation["conversation_id"]
    bridge.settle()
    page = signed_in.page
    page.goto(bridge.url + "/")
    page.get_by_label("Search sessions").fill(cid)
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(rf"\?q={cid}$"))
    rows = page.locator("#inbox-live tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(email)
    link = rows.first.get_by_role("link", name="Open")
    expect(link).to_have_attribute("href", freshchat_link(conversation))
    expect(link).to_have_attribute("target", "_blank")
    signed_in.shot("search")


def test_the_session_page_hands_off_and_copies_the_bundle(signed_in, bridge, st, browser):
    bridge.cli("settings", "set", "handoff_confidence_threshold", "0")  # the AI answers
    try:
        conversation, email = new_chat(st, "Do you ship to Canada?")
        bridge.settle()
    finally:
        bridge.cli("settings", "set", "handoff_confidence_threshold", "0.6")
    page = signed_in.page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=bridge.url)
    page.goto(f"{bridge.url}/sessions/{conversation['conversation_id']}")
    expect(page.locator("#session-live .badge").first).to_have_text("AI handling")
    expect(page.locator(".transcript")).to_contain_text("Do you ship to Canada?")
    expect(page.locator(".timeline")).to_contain_text("dedup")

    page.get_by_role("button", name="Copy support bundle").click()
    expect(page.locator("#copy-status")).to_have_text("Support bundle copied to the clipboard.")
    bundle = json.loads(page.evaluate("navigator.clipboard.readText()"))
    assert bundle["conversation_id"] == conversation["conversation_id"]
    assert bundle["freshchat_url"] == freshchat_link(conversation)
    assert bundle["contact"]["email"] == email

    page.get_by_role("button", name="Hand off now").click()
    expect(page.get_by_role("status").first).to_contain_text("Handed off")
    expect(page.locator("#session-live .badge").first).to_have_text("handed off")
    st.wait_for(lambda: any(m["message_type"] == "private"
                            for m in st.messages(conversation["conversation_id"])))
    expect(page.locator(".transcript .msg.note")).to_contain_text(
        f"handed off from the dashboard by {EMAIL}", timeout=8_000)  # live, no reload
    signed_in.shot("handed-off")


def test_the_inbox_on_a_phone(browser, bridge, st, request):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    tab = Tab(context.new_page(), request.node.name)
    try:
        sign_in(tab, bridge)
        new_chat(st, "Phone check")
        bridge.settle()
        tab.page.goto(bridge.url + "/")
        tab.shot("phone")
        width = tab.page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the page scrolls sideways on a phone ({width}px)"
    finally:
        context.close()
    assert tab.errors == []


def test_diagnostics_show_every_check_with_its_status_and_fix(signed_in, bridge, st):
    page = signed_in.page
    page.goto(bridge.url + "/diagnostics")
    expect(page.get_by_role("heading", name="Diagnostics")).to_be_visible()
    for _ in range(20):  # the worker asks Freshchat as it starts; the page shows its answer
        if "not checked yet" not in page.locator("#check-credentials").inner_text():
            break
        page.wait_for_timeout(250)
        page.reload()
    for check in ("credentials", "default_agent", "agent_name", "webhook_traffic",
                  "resolution_events", "stale_webhook_url", "refused_webhooks", "routing",
                  "token", "delivery_backlog", "processing_backlog", "failed_events", "stranded",
                  "embeddings"):
        expect(page.locator(f"#check-{check} .badge")).to_have_text(
            re.compile(r"^(ok|warn|fail)$"))
    expect(page.locator("#check-credentials .badge")).to_have_text("ok")
    signed_in.shot("diagnostics")
    page.get_by_role("link", name=re.compile("dedup", re.I)).first.click()
    expect(page).to_have_url(re.compile(r"/dedup$"))
    signed_in.shot("dedup")


def test_the_overview_counts_and_links_to_the_sessions_behind_each_number(signed_in, bridge,
                                                                          st):
    new_chat(st, "I want to talk to a human please")
    bridge.settle()
    page = signed_in.page
    page.goto(bridge.url + "/overview")
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    conversations = int(page.locator('[data-figure="conversations"]').inner_text())
    assert conversations >= 1
    expect(page.locator("svg.chart").first).to_be_visible()
    expect(page.locator('[data-reason="human_asked"]')).to_be_visible()
    signed_in.shot("overview")
    page.locator("#figure-handed_off").click()
    expect(page).to_have_url(re.compile(r"/\?outcome=handed_off&since=.*&until="))
    expect(page.locator(".outcome-filter")).to_contain_text("Handed off")
    expect(page.locator("#inbox-live tbody tr").first).to_contain_text("handed off")
    signed_in.shot("overview-filtered-inbox")


@pytest.mark.parametrize("path", ["/overview", "/?status=waiting", "/diagnostics", "/kb/eval/"],
                         ids=["overview", "waiting", "diagnostics", "kb-eval"])
def test_new_pages_fit_a_phone(browser, bridge, st, request, path):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    tab = Tab(context.new_page(), request.node.name)
    try:
        sign_in(tab, bridge)
        tab.page.goto(bridge.url + path)
        tab.shot("phone")
        width = tab.page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{path} scrolls sideways on a phone ({width}px)"
    finally:
        context.close()
    assert tab.errors == []


def test_the_ai_is_tested_on_a_file_of_questions_and_the_threshold_chosen(signed_in, bridge,
                                                                          tmp_path):
    faq = ROOT / "tests" / "fixtures" / "kb" / "faq.csv"
    bridge.cli("kb", "import", str(faq))
    with faq.open() as handle:
        answers = {row["question"]: row["answer"] for row in csv.DictReader(handle)}
    questions = tmp_path / "questions.csv"
    with questions.open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["question", "expected"])
        out.writerow(["how long does shipping to canada take",
                      answers["How long does shipping take?"]])
        out.writerow(["I forgot my password", answers["How do I reset my password?"]])
        out.writerow(["cancel my subscription", ""])
    page = signed_in.page
    page.goto(bridge.url + "/kb/")
    page.get_by_role("link", name="Test the AI on your questions").click()
    page.get_by_label("CSV of questions").set_input_files(str(questions))
    page.get_by_role("button", name="Run the test").click()
    expect(page.locator("main")).to_contain_text(
        "3 questions: top-1 100%, answered 100%, right when answered 100%, handed off when it "
        "should 100%")
    expect(page.locator("svg.chart polyline")).to_have_count(3)
    expect(page.locator("tr.chosen")).to_contain_text("0.60")
    signed_in.shot("kb-eval")
    try:
        page.get_by_role("button", name="Use 0.70").click()
        expect(page.locator(".flash.success")).to_have_text(
            "The AI now hands off below a confidence of 0.70.")
        assert "handoff_confidence_threshold = 0.7\t" in bridge.cli("settings", "show").stdout
    finally:
        bridge.cli("settings", "set", "handoff_confidence_threshold", "0.6")
