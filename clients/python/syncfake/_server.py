"""The server process and the client of its HTTP face (Twilio's routes and /_syncfake/)."""

import atexit
import base64
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time
import urllib.parse
import weakref

STDERR_CAP = 64 * 1024  # the server's stderr kept for error messages (its tail)
_live = weakref.WeakSet()  # servers to kill if the interpreter exits without stop()


@atexit.register
def _kill_leftovers():
    for fake in list(_live):
        fake._kill()


class SyncfakeError(Exception):
    """A server that would not start or stop, or a non-2xx answer (status, code, body)."""

    def __init__(self, message, status=None, code=None, body=None, stderr=None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.body = body
        self.stderr = stderr


def _checkout_root():
    root = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
    if os.path.exists(os.path.join(root, "fake_http", "server_main.c")):
        return root
    return None


def _build_in_checkout(root):
    build = os.path.join(root, "build")
    steps = []
    if not os.path.exists(os.path.join(build, "CMakeCache.txt")):
        steps.append(["cmake", "-S", root, "-B", build, "-DCMAKE_BUILD_TYPE=Release"])
    steps.append(["cmake", "--build", build, "-j2", "--target", "syncfake-server"])
    for cmd in steps:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=20 * 60)
        if r.returncode != 0:
            raise SyncfakeError(
                "building syncfake-server failed: %s\n%s%s" % (" ".join(cmd), r.stdout, r.stderr))
    return os.path.join(build, "syncfake-server")


def find_server(server=None, build=True):
    """The server binary: `server`, $SYNCFAKE_SERVER, syncfake-server on PATH (installed), or
    build/syncfake-server of the checkout this package is in (built there unless build=False)."""
    given = server or os.environ.get("SYNCFAKE_SERVER")
    if given:
        if not (os.path.isfile(given) and os.access(given, os.X_OK)):
            raise SyncfakeError("syncfake-server not executable: %s" % given)
        return given
    installed = shutil.which("syncfake-server")
    if installed:
        return installed
    root = _checkout_root()
    if root:
        built = os.path.join(root, "build", "syncfake-server")
        if os.access(built, os.X_OK):
            return built
        if build:
            return _build_in_checkout(root)
    raise SyncfakeError("syncfake-server not found: install it (make install), put it on PATH, "
                        "or set SYNCFAKE_SERVER")


def _twilio_params(params):
    """{"drop_rate": 0.5} or {"dropRate": 0.5} -> {"DropRate": "0.5"}."""
    out = {}
    for key, value in params.items():
        if value is None:
            continue
        name = "".join(part[:1].upper() + part[1:] for part in key.split("_"))
        if isinstance(value, bool):
            value = "true" if value else "false"
        out[name] = str(value)
    return out


class _Faults:
    def __init__(self, fake):
        self._fake = fake

    def add(self, **rule):
        """POST /_syncfake/faults (scope=, target=, drop_rate=, delay_ms=, ...): the rule."""
        return self._fake.request("POST", "/_syncfake/faults", _twilio_params(rule))

    def remove(self, rule_id):
        self._fake.request("DELETE", "/_syncfake/faults/%s" % urllib.parse.quote(str(rule_id)))

    def list(self):
        return self._fake.request("GET", "/_syncfake/faults")


class _Errors:
    def __init__(self, fake):
        self._fake = fake

    def inject(self, **injection):
        """POST /_syncfake/errors (operation=, count=, status=, code=, message=, after_apply=)."""
        return self._fake.request("POST", "/_syncfake/errors", _twilio_params(injection))


class Syncfake:
    """A running syncfake-server. Use start_syncfake(), or Syncfake(...).start()."""

    def __init__(self, seed=None, clock="manual", limits=None, account_sid=None,
                 auth_token=None, args=(), server=None, build=True, start_timeout=10.0):
        self.base_url = self.account_sid = self.auth_token = None
        self.process = None
        self.faults = _Faults(self)
        self.errors = _Errors(self)
        self._options = dict(seed=seed, clock=clock, limits=limits or {},
                             account_sid=account_sid, auth_token=auth_token, args=list(args),
                             server=server, build=build, start_timeout=start_timeout)
        self._stderr = b""
        self._stderr_lock = threading.Lock()
        self._service_sid = None

    # ---- process ----

    def _command(self):
        o = self._options
        cmd = [find_server(o["server"], o["build"]), "--port", "0", "--clock", o["clock"]]
        if o["seed"] is not None:
            cmd += ["--seed", str(o["seed"])]
        if o["account_sid"]:
            cmd += ["--account-sid", o["account_sid"]]
        if o["auth_token"]:
            cmd += ["--auth-token", o["auth_token"]]
        for name, value in o["limits"].items():
            cmd += ["--limit", "%s=%s" % (name, value)]
        return cmd + o["args"]

    def _drain_stderr(self, pipe):
        for chunk in iter(lambda: pipe.read1(4096), b""):
            with self._stderr_lock:
                self._stderr = (self._stderr + chunk)[-STDERR_CAP:]

    def stderr(self):
        """What the server has written to stderr so far (its last 64 KiB)."""
        with self._stderr_lock:
            return self._stderr.decode("utf-8", "replace")

    def start(self):
        """Starts the server on a free loopback port; returns once it announced itself."""
        cmd = self._command()
        self.process = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE)
        _live.add(self)
        threading.Thread(target=self._drain_stderr, args=(self.process.stderr,),
                         daemon=True).start()
        announced = {}
        reader = threading.Thread(target=self._read_announcement, args=(announced,),
                                  daemon=True)
        reader.start()
        reader.join(self._options["start_timeout"])
        if not {"url", "account_sid", "auth_token"} <= announced.keys():
            code = None
            if not reader.is_alive():  # stdout closed early: the server is exiting
                try:
                    code = self.process.wait(2.0)
                except subprocess.TimeoutExpired:
                    pass
            why = ("exited with %s before listening" % code if code is not None else
                   "did not announce itself within %g s" % self._options["start_timeout"])
            self._kill()
            time.sleep(0.05)  # let the stderr reader catch the last lines
            raise SyncfakeError("syncfake-server (%s) %s; its stderr:\n%s"
                                % (" ".join(cmd), why, self.stderr()), stderr=self.stderr())
        self.base_url = announced["url"].rstrip("/")
        self.account_sid = announced["account_sid"]
        self.auth_token = announced["auth_token"]
        # keep reading stdout so the server never blocks on a full pipe
        threading.Thread(target=lambda: self.process.stdout.read(), daemon=True).start()
        return self

    def _read_announcement(self, announced):
        patterns = {"url": r"^syncfake-server listening on (\S+)$",
                    "account_sid": r"^account_sid (\S+)$", "auth_token": r"^auth_token (\S+)$"}
        for raw in iter(self.process.stdout.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\n")
            for key, pattern in patterns.items():
                m = re.match(pattern, line)
                if m:
                    announced[key] = m.group(1)
            if len(announced) == len(patterns):
                return

    def _kill(self):
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        _live.discard(self)

    def stop(self, timeout=10.0):
        """SIGTERM, then waits (SIGKILL after `timeout` s); raises unless the server exited 0."""
        if not self.process:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self._kill()
            raise SyncfakeError("syncfake-server did not stop within %g s; its stderr:\n%s"
                                % (timeout, self.stderr()), stderr=self.stderr())
        _live.discard(self)
        if code != 0:
            raise SyncfakeError("syncfake-server exited with %s; its stderr:\n%s"
                                % (code, self.stderr()), stderr=self.stderr())

    def __enter__(self):
        return self if self.process else self.start()

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.stop()
        else:  # the test already failed: stop, but let its exception be the one reported
            try:
                self.stop()
            except SyncfakeError:
                pass

    # ---- HTTP ----

    @property
    def basic_auth(self):
        """HTTP Basic credentials of the fake's account, for any HTTP client."""
        raw = ("%s:%s" % (self.account_sid, self.auth_token)).encode()
        return "Basic " + base64.b64encode(raw).decode()

    def request(self, method, path, form=None, timeout=10.0):
        """One request with the account's credentials: form-encoded `form`, JSON answer (None
        for 204, text for NDJSON). A non-2xx answer raises SyncfakeError(status, code, body)."""
        url = urllib.parse.urlsplit(self.base_url)
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=timeout)
        headers = {"Authorization": self.basic_auth, "Accept": "application/json"}
        body = None
        if form:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            text = resp.read().decode("utf-8")
            ctype = resp.getheader("Content-Type") or ""
        finally:
            conn.close()
        if not 200 <= resp.status < 300:
            try:
                parsed = json.loads(text)
            except ValueError:
                parsed = {}
            raise SyncfakeError("%s %s: %d %s" % (method, path, resp.status,
                                                  parsed.get("message", text)),
                                status=resp.status, code=parsed.get("code"), body=text)
        if resp.status == 204 or not text:
            return None
        if "ndjson" in ctype or "json" not in ctype:
            return text
        return json.loads(text)

    def twilio_client(self):
        """twilio-python's Client for the fake's account, Sync base URL on the fake."""
        from twilio.rest import Client

        client = Client(self.account_sid, self.auth_token)
        client.sync.base_url = self.base_url  # the domain object keeps it; created once
        return client

    def default_service_sid(self):
        """A Sync service SID for token(): one service this helper creates once."""
        if not self._service_sid:
            self._service_sid = self.request("POST", "/v1/Services",
                                             {"FriendlyName": "syncfake"})["sid"]
        return self._service_sid

    def token(self, identity, service_sid=None, ttl=None):
        """An access token for the client SDK (twilio-sync), minted on the fake's clock."""
        params = _twilio_params({"identity": identity,
                                 "service_sid": service_sid or self.default_service_sid(),
                                 "ttl": ttl})
        return self.request("POST", "/_syncfake/tokens", params)["token"]

    def advance(self, ms):
        """Moves the manual clock by ms, running what falls due (expiries, deliveries)."""
        return self.request("POST", "/_syncfake/clock", {"AdvanceMs": str(int(ms))})

    def clock(self):
        """{"now", "now_ms", "mode"}."""
        return self.request("GET", "/_syncfake/clock")

    def journal(self):
        """The journal as a list of entries (parsed NDJSON)."""
        text = self.request("GET", "/_syncfake/journal") or ""
        return [json.loads(line) for line in text.splitlines() if line]

    def reset(self):
        """A fresh fake with the same options (same seed: the same SIDs again)."""
        self.request("POST", "/_syncfake/reset")
        self._service_sid = None


def start_syncfake(**options):
    """Starts a private server (see Syncfake for the options); use it as a context manager."""
    return Syncfake(**options).start()
