#!/usr/bin/env python3
"""Offline attendance in a real browser (headless Debian chromium, driven by Playwright).

Run by scripts/browser-test with the path of the attendance fixture server
(app/test-support/src/bin/attendance-fixture.rs). The agent signs in (password and TOTP code),
opens the day's list, goes offline, marks three children, reloads the page while still
offline and sees the three marks pending, goes back online and sees them synced; the
database then holds each mark exactly once.
"""

import hashlib
import hmac
import json
import struct
import subprocess
import sys

from playwright.sync_api import expect, sync_playwright

CHROMIUM = "/usr/bin/chromium"
TIMEOUT_MS = 20_000


def fail(message: str) -> None:
    raise SystemExit(f"browser-test: {message}")


def check(condition: bool, message: str) -> None:
    if not condition:
        fail(message)


def totp(secret: bytes, at: int) -> str:
    """RFC 6238 (SHA-1, 6 digits, 30 s) at the fixture's stopped clock."""
    digest = hmac.new(secret, struct.pack(">Q", at // 30), hashlib.sha1).digest()
    offset = digest[19] & 15
    code = (struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 1_000_000
    return f"{code:06d}"


def marks(server: subprocess.Popen) -> list:
    server.stdin.write("marks\n")
    server.stdin.flush()
    return json.loads(server.stdout.readline())


def run(fixture: dict, server: subprocess.Popen) -> None:
    base = fixture["url"]
    children = fixture["children"]
    day = f"{base}/gestion/appel?ecole={fixture['school']}&date={fixture['date']}"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True)
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        context.set_default_timeout(TIMEOUT_MS)
        login = context.request.post(
            f"{base}/api/v1/session",
            data={
                "email": fixture["email"],
                "password": fixture["password"],
                "totp": totp(bytes.fromhex(fixture["totp_secret_hex"]), fixture["now"]),
            },
        )
        check(login.ok, f"login answered {login.status}: {login.text()}")
        page = context.new_page()
        page.goto(day)
        expect(page.locator("#appel-attente")).to_have_attribute("data-pending", "0")
        # The service worker controls the page and keeps the day's list.
        page.wait_for_function("navigator.serviceWorker.controller !== null")
        page.wait_for_function("caches.match(location.href).then(r => r !== undefined)")

        context.set_offline(True)
        taps = [(children[0], "Présent"), (children[1], "Absent"), (children[2], "Présent")]
        for child, button in taps:
            page.locator(f"#enfant-{child}").get_by_role("button", name=button).click()
        counter = page.locator("#appel-attente")
        expect(counter).to_have_attribute("data-pending", "3")
        expect(counter).to_contain_text("3 pointages en attente d'envoi")
        check(marks(server) == [], "a mark reached the server while offline")

        reached = page.evaluate("fetch('/healthz').then(() => 'reached', () => 'unreachable')")
        check(reached == "unreachable", "the server is still reachable while offline")
        reloaded = page.reload()
        check(reloaded is not None and reloaded.from_service_worker, "the offline reload did not come from the worker")
        expect(counter).to_have_attribute("data-pending", "3")
        expect(counter).to_contain_text("3 pointages en attente d'envoi")
        for child, button in taps:
            row = page.locator(f"#enfant-{child}")
            expect(row).to_contain_text(f"{button} – en attente d'envoi")
        expect(page.locator(f"#enfant-{children[3]}")).to_contain_text("Non pointé")

        context.set_offline(False)
        expect(counter).to_have_attribute("data-pending", "0")
        expect(counter).to_contain_text("Tous les pointages sont envoyés.")
        for child, button in taps:
            row = page.locator(f"#enfant-{child}")
            expect(row).to_contain_text(button)
            expect(row).not_to_contain_text("en attente")

        # Online, the server's page says the same.
        page.reload()
        for child, button in taps:
            expect(page.locator(f"#enfant-{child}")).to_contain_text(button)
        browser.close()

    stored = marks(server)
    check(len(stored) == len(taps), f"{len(stored)} marks stored for {len(taps)} taps: {stored}")
    check(len({m["client_id"] for m in stored}) == len(taps), f"a client id twice: {stored}")
    expected = {child: button == "Présent" for child, button in taps}
    check({m["child_id"]: m["present"] for m in stored} == expected, f"marks {stored}, expected {expected}")
    print(f"browser-test: {len(taps)} marks made offline, each stored exactly once")


def main() -> None:
    if len(sys.argv) != 2:
        fail("usage: browser_attendance.py PATH-TO-attendance-fixture")
    server = subprocess.Popen([sys.argv[1]], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        line = server.stdout.readline()
        if not line:
            fail("the fixture server did not start")
        run(json.loads(line), server)
    finally:
        server.stdin.close()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


if __name__ == "__main__":
    main()
