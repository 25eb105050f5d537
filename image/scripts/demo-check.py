#!/usr/bin/env python3
"""Boot test step: the demo family logs in over HTTPS and books a meal, through the JSON API as a
browser-less client would (session cookie + X-CSRF-Token). Usage: demo-check.py BASE_URL PASSWORD
The certificate is the appliance's self-signed one, so it is not verified here."""
import datetime
import http.cookiejar
import json
import ssl
import sys
import urllib.error
import urllib.request

base, password = sys.argv[1].rstrip("/"), sys.argv[2]
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
jar = http.cookiejar.CookieJar()
opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=ctx),
                                     urllib.request.HTTPCookieProcessor(jar))
csrf = None


def call(method, path, body=None):
    headers = {"Accept": "application/json"}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if csrf:
        headers["X-CSRF-Token"] = csrf
    req = urllib.request.Request(base + path, data=data, method=method, headers=headers)
    try:
        with opener.open(req, timeout=60) as r:
            return json.load(r)
    except urllib.error.HTTPError as e:
        sys.exit(f"{method} {path}: HTTP {e.code}: {e.read()[:300]!r}")


login = call("POST", "/api/v1/session", {"email": "famille.martin@techniville.test", "password": password})
csrf = login["csrf_token"]
print(f"logged in as {login.get('first_name')}")
children = call("GET", "/api/v1/children")
today = datetime.date.today()
to = today + datetime.timedelta(days=60)
for child in children:
    days = call("GET", f"/api/v1/children/{child['id']}/reservations?from={today}&to={to}")
    # The demo household's year is booked in full: free the first changeable day, then book it.
    open_days = [d for d in days if not d["locked"] and not d.get("reason")]
    if not open_days:
        continue
    day = open_days[0]["date"]
    if open_days[0]["booked"]:
        cancelled = call("DELETE", f"/api/v1/children/{child['id']}/reservations/{day}")
        if cancelled.get("booked"):
            sys.exit(f"cancelling {day} answered {cancelled}")
    changed = call("PUT", f"/api/v1/children/{child['id']}/reservations/{day}")
    if not changed.get("booked") or not changed.get("changed"):
        sys.exit(f"booking {day} for child {child['id']} answered {changed}")
    again = call("GET", f"/api/v1/children/{child['id']}/reservations?from={day}&to={day}")
    if not again or not again[0]["booked"]:
        sys.exit(f"{day} not booked when read back: {again}")
    print(f"booked {day} for {child['first_name']}")
    sys.exit(0)
sys.exit(f"no changeable day in the next 60 days for {len(children)} child(ren): "
         f"{[(d['date'], d['booked'], d['locked'], d.get('reason')) for d in days[:5]]}")
