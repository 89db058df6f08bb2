#!/usr/bin/env python3
"""The one-click page in a real headless Chromium, against the real redis-fleet binary.

Starts the operator in standalone mode (embedded local pool, redis-server processes) with
--self-service-addr, opens the page in headless Chromium through the DevTools protocol, clicks
the button with real mouse events, waits for the connection line, and connects with it using
redis-cli. Then it ends the instance through the API and checks the server is gone.
Everything listens on 127.0.0.1. Exit 0 on success; every failure prints why.
"""
import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import websocket  # Debian: python3-websocket


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(what, cond, timeout=30.0, interval=0.1):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = cond()
            if last:
                return last
        except Exception as e:  # not up yet
            last = e
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


def http(method, url, timeout=5):
    req = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


class DevTools:
    """The few DevTools protocol calls the test needs, over one page's websocket."""

    def __init__(self, ws_url):
        self.ws = websocket.create_connection(ws_url, timeout=30)
        self.next_id = 0

    def call(self, method, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == self.next_id:
                if "error" in msg:
                    raise AssertionError(f"{method}: {msg['error']}")
                return msg.get("result", {})

    def eval(self, expression):
        r = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in r:
            raise AssertionError(f"{expression}: {r['exceptionDetails']}")
        return r["result"].get("value")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    args = ap.parse_args()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "chromium is not installed (scripts/install-deps installs it)"

    tmp = tempfile.mkdtemp(prefix="redisfleet-page-")
    res, state = os.path.join(tmp, "resources"), os.path.join(tmp, "state")
    os.makedirs(res)
    health, metrics, page, devtools = free_port(), free_port(), free_port(), free_port()
    op_log = open(os.path.join(tmp, "operator.log"), "w")
    op = subprocess.Popen(
        [args.binary, "run", "--dir", res, "--state-dir", state,
         "--health-addr", f"127.0.0.1:{health}", "--metrics-addr", f"127.0.0.1:{metrics}",
         "--self-service-addr", f"127.0.0.1:{page}"],
        stdout=op_log, stderr=subprocess.STDOUT)
    browser = None
    ok = False
    try:
        wait_until("the operator", lambda: http("GET", f"http://127.0.0.1:{health}/readyz")[0] == 200)
        browser = subprocess.Popen(
            [chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-dev-shm-usage", f"--remote-debugging-port={devtools}",
             "--remote-debugging-address=127.0.0.1", f"--user-data-dir={tmp}/chromium",
             "about:blank"],
            stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, "chromium.log"), "w"))

        def page_target():
            _, body = http("GET", f"http://127.0.0.1:{devtools}/json/list")
            pages = [t for t in json.loads(body) if t.get("type") == "page"]
            return pages[0]["webSocketDebuggerUrl"] if pages else None

        cdp = DevTools(wait_until("chromium's DevTools endpoint", page_target, timeout=60))
        cdp.call("Page.navigate", url=f"http://127.0.0.1:{page}/")
        wait_until("the page to load",
                   lambda: cdp.eval("document.readyState") == "complete"
                   and cdp.eval("!!document.getElementById('get')"))

        # A real click: mouse down and up at the button's centre.
        box = cdp.eval("(() => { const r = document.getElementById('get').getBoundingClientRect();"
                       " return {x: r.x + r.width / 2, y: r.y + r.height / 2}; })()")
        for kind in ("mousePressed", "mouseReleased"):
            cdp.call("Input.dispatchMouseEvent", type=kind, x=box["x"], y=box["y"],
                     button="left", clickCount=1)

        line = wait_until(
            "the connection line",
            lambda: (cdp.eval("document.getElementById('connection').textContent") or "").strip(),
            timeout=60)
        error = cdp.eval("document.getElementById('error').textContent")
        m = re.fullmatch(r"redis-cli -h (\S+) -p (\d+) -a (\S+)", line)
        assert m, f"unexpected connection line {line!r} (error shown: {error!r})"
        host, port, password = m.groups()
        assert host.startswith("127."), host
        assert len(password) >= 32, "generated passwords are at least 32 characters"

        # Connect with exactly what the page showed.
        pong = subprocess.run(["redis-cli", "-h", host, "-p", port, "-a", password,
                               "--no-auth-warning", "ping"], capture_output=True, text=True, timeout=10)
        assert pong.stdout.strip() == "PONG", f"redis-cli said {pong.stdout!r} {pong.stderr!r}"
        wrong = subprocess.run(["redis-cli", "-h", host, "-p", port, "-a", "not-the-password",
                                "--no-auth-warning", "ping"], capture_output=True, text=True, timeout=10)
        assert "PONG" not in wrong.stdout, "the server must require the password"

        # The password never reached the operator's log.
        op_log.flush()
        assert password not in open(os.path.join(tmp, "operator.log")).read(), "password in the log"

        # End it early through the API: the server goes away.
        name = cdp.eval("(() => { const e = document.querySelector('[data-name]');"
                        " return e ? e.getAttribute('data-name') : null; })()")
        if not name:
            names = [f[len("default."):-len(".yaml")] for f in os.listdir(os.path.join(state, "self-service"))]
            assert len(names) == 1, names
            name = names[0]
        status, body = http("DELETE", f"http://127.0.0.1:{page}/v1/instances/{name}")
        assert status == 204, (status, body)

        def server_gone():
            r = subprocess.run(["redis-cli", "-h", host, "-p", port, "-a", password,
                                "--no-auth-warning", "ping"], capture_output=True, text=True, timeout=10)
            return r.stdout.strip() != "PONG"
        wait_until("the server to stop after DELETE", server_gone, timeout=30)
        ok = True
        print("self-service page: click -> connection line -> PONG -> DELETE: ok")
    finally:
        if browser:
            browser.kill()
            browser.wait()
        op.send_signal(signal.SIGTERM)
        try:
            op.wait(timeout=20)
        except subprocess.TimeoutExpired:
            op.kill()
        op_log.close()
        if not ok:
            sys.stdout.write(open(os.path.join(tmp, "operator.log")).read()[-8000:])
        # Any redis-server still running from this state dir (only after a failure).
        subprocess.run(["pkill", "-f", state], check=False)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
