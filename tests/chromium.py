"""Open a local page in headless Chromium over the DevTools protocol (a pipe, no extra packages).

`open_page(path, profile)` loads the page with the network switched off, waits for
its load event, evaluates a script in it, takes a screenshot, and returns every
console message, uncaught exception and browser log error seen on the way.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--remote-debugging-pipe"]


@dataclass
class PageVisit:
    """What the browser saw: problems (console output, exceptions, log errors) and results."""

    problems: list[str] = field(default_factory=list)
    evaluated: object = None
    screenshot: Path | None = None


def open_page(page: Path, profile: Path, *, script: str = "null", screenshot: Path | None = None,
              width: int = 1280, height: int = 2000, timeout: float = 60) -> PageVisit:
    """Load `page` offline, evaluate `script` (a JSON-returning expression), screenshot it."""
    to_browser_r, to_browser_w = os.pipe()
    from_browser_r, from_browser_w = os.pipe()
    process = subprocess.Popen(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}"],
        close_fds=False, preexec_fn=_pipes_as_3_and_4(to_browser_r, from_browser_w),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(to_browser_r)
    os.close(from_browser_w)
    session = _Session(to_browser_w, from_browser_r, time.monotonic() + timeout)
    try:
        return _visit(session, page, script, screenshot, width, height)
    finally:
        try:
            session.call("Browser.close")
        except Exception:  # the browser may already be gone; it is killed below anyway
            pass
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        os.close(to_browser_w)
        os.close(from_browser_r)


def _pipes_as_3_and_4(read_fd: int, write_fd: int):
    def setup() -> None:  # runs in the child: Chromium reads fd 3 and writes fd 4
        high_read = fcntl.fcntl(read_fd, fcntl.F_DUPFD, 100)  # out of the way of 3 and 4
        high_write = fcntl.fcntl(write_fd, fcntl.F_DUPFD, 100)
        os.dup2(high_read, 3)
        os.dup2(high_write, 4)

    return setup


def _visit(session: _Session, page: Path, script: str, screenshot: Path | None,
           width: int, height: int) -> PageVisit:
    target = session.call("Target.createTarget", {"url": "about:blank"})["targetId"]
    session.id = session.call("Target.attachToTarget",
                              {"targetId": target, "flatten": True})["sessionId"]
    for domain in ("Page", "Runtime", "Log", "Network"):
        session.call(f"{domain}.enable")
    session.call("Network.emulateNetworkConditions", {
        "offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
    session.call("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
    session.call("Page.navigate", {"url": page.resolve().as_uri()})
    session.wait_for("Page.loadEventFired")
    visit = PageVisit()
    result = session.call("Runtime.evaluate", {"expression": script, "returnByValue": True,
                                               "awaitPromise": True})
    visit.evaluated = result.get("result", {}).get("value")
    if screenshot is not None:
        data = session.call("Page.captureScreenshot", {"format": "png"})["data"]
        screenshot.write_bytes(base64.b64decode(data))
        visit.screenshot = screenshot
    visit.problems = session.problems()
    return visit


class _Session:
    """Requests and events over Chromium's pipe: JSON messages ended by a NUL byte."""

    def __init__(self, write_fd: int, read_fd: int, deadline: float) -> None:
        self.write_fd, self.read_fd, self.deadline = write_fd, read_fd, deadline
        self.id: str | None = None
        self.events: list[dict] = []
        self._buffer, self._next_id = b"", 0

    def call(self, method: str, params: dict | None = None) -> dict:
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if self.id and not method.startswith(("Target.", "Browser.")):
            message["sessionId"] = self.id
        os.write(self.write_fd, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._read()
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, event: str) -> None:
        while not any(e.get("method") == event for e in self.events):
            self.events.append(self._read())

    def problems(self) -> list[str]:
        found = []
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.consoleAPICalled":
                text = " ".join(str(a.get("value", a.get("description", "")))
                                for a in params.get("args", []))
                found.append(f"console.{params.get('type')}: {text}")
            elif method == "Runtime.exceptionThrown":
                details = params.get("exceptionDetails", {})
                found.append(f"exception: {details.get('exception', {}).get('description')}"
                             f" ({details.get('text')})")
            elif method == "Log.entryAdded" and params["entry"]["level"] in ("error", "warning"):
                entry = params["entry"]
                found.append(f"log {entry['level']}: {entry['text']} {entry.get('url', '')}")
            elif method == "Network.loadingFailed":
                found.append(f"network: {params.get('errorText')} ({params.get('type')})")
        return found

    def _read(self) -> dict:
        while b"\0" not in self._buffer:
            left = self.deadline - time.monotonic()
            if left <= 0 or not select.select([self.read_fd], [], [], left)[0]:
                raise TimeoutError("Chromium did not answer in time")
            chunk = os.read(self.read_fd, 1 << 20)
            if not chunk:
                raise RuntimeError("Chromium closed the DevTools pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)
