"""The helper against a real syncfake-server (SYNCFAKE_SERVER, installed, or the checkout's)."""

import base64
import json
import os
import stat
import subprocess
import sys
import time

import pytest

from syncfake import SyncfakeError, start_syncfake


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie still answers kill(0): look at its state
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(") ")[1][0] != "Z"
    except OSError:
        return False


def create_stream(fake, service_sid, unique_name, ttl=None):
    form = {"UniqueName": unique_name}
    if ttl:
        form["Ttl"] = str(ttl)
    return fake.request("POST", "/v1/Services/%s/Streams" % service_sid, form)


def test_context_manager_announces_and_stops_cleanly():
    with start_syncfake(seed=7) as fake:
        assert fake.base_url.startswith("http://127.0.0.1:")
        assert fake.account_sid.startswith("AC") and len(fake.account_sid) == 34
        assert fake.clock()["mode"] == "manual"
        pid = fake.process.pid
    assert fake.process.returncode == 0
    assert not alive(pid)


@pytest.mark.syncfake(seed=42)
def test_marker_seed_gives_the_same_sids_as_a_second_server(syncfake):
    with start_syncfake(seed=42) as other:
        assert other.account_sid == syncfake.account_sid
        assert other.default_service_sid() == syncfake.default_service_sid()


def test_reset_starts_over_with_the_same_sids(syncfake):
    first = create_stream(syncfake, syncfake.default_service_sid(), "room")
    syncfake.reset()
    again = create_stream(syncfake, syncfake.default_service_sid(), "room")
    assert again["sid"] == first["sid"]


def test_advance_moves_the_clock_and_expires_a_stream(syncfake):
    service = syncfake.default_service_sid()
    create_stream(syncfake, service, "lobby", ttl=60)
    before = syncfake.clock()["now_ms"]
    syncfake.advance(60 * 1000)
    assert syncfake.clock()["now_ms"] == before + 60 * 1000
    with pytest.raises(SyncfakeError) as e:
        syncfake.request("GET", "/v1/Services/%s/Streams/lobby" % service)
    assert (e.value.status, e.value.code) == (404, 20404)


def test_injected_error_fails_the_next_create_only(syncfake):
    service = syncfake.default_service_sid()
    syncfake.errors.inject(operation="stream.create", count=1, status=503, code=20503)
    with pytest.raises(SyncfakeError) as e:
        create_stream(syncfake, service, "x")
    assert (e.value.status, e.value.code) == (503, 20503)
    assert create_stream(syncfake, service, "x")["sid"].startswith("TO")


def test_fault_rule_add_and_remove(syncfake):
    rule = syncfake.faults.add(scope="fake", drop_rate=0.5)
    assert str(rule["id"]) in json.dumps(syncfake.faults.list())
    syncfake.faults.remove(rule["id"])
    with pytest.raises(SyncfakeError) as e:
        syncfake.faults.remove(rule["id"])
    assert e.value.status == 404


def test_journal_and_token(syncfake):
    service = syncfake.default_service_sid()
    stream = create_stream(syncfake, service, "news")
    syncfake.request("POST", "/v1/Services/%s/Streams/news/Messages" % service,
                     {"Data": '{"n": 1}'})
    journal = syncfake.journal()
    assert journal and stream["sid"] in json.dumps(journal)
    payload = syncfake.token("alice").split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["grants"]["identity"] == "alice"
    assert claims["grants"]["data_sync"]["service_sid"] == service


def test_twilio_client_against_the_fake(syncfake):  # needs python3-twilio
    client = syncfake.twilio_client()
    service = client.sync.v1.services.create(friendly_name="chat")
    stream = client.sync.v1.services(service.sid).sync_streams.create(unique_name="room")
    assert client.sync.v1.services(service.sid).sync_streams("room").fetch().sid == stream.sid


def _script(tmp_path, name, body):
    path = tmp_path / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def test_failing_server_gives_its_exit_status_and_stderr(tmp_path):
    broken = _script(tmp_path, "broken", 'echo "boom: cannot bind 127.0.0.1" >&2\nexit 3\n')
    with pytest.raises(SyncfakeError) as e:
        start_syncfake(server=broken)
    assert "exited with 3 before listening" in str(e.value)
    assert "boom: cannot bind" in str(e.value)


def test_silent_server_times_out_with_a_clear_error(tmp_path):
    silent = _script(tmp_path, "silent", 'echo "still thinking" >&2\nexec sleep 30\n')
    with pytest.raises(SyncfakeError) as e:
        start_syncfake(server=silent, start_timeout=0.5)
    assert "did not announce itself within 0.5 s" in str(e.value)
    assert "still thinking" in str(e.value)


def test_crashed_test_process_leaves_no_server():
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    code = ("import sys; sys.path.insert(0, %r)\n"
            "from syncfake import start_syncfake\n"
            "fake = start_syncfake()\n"
            "print(fake.process.pid, flush=True)\n"
            "raise RuntimeError('the test crashed')\n" % here)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode != 0 and "the test crashed" in r.stderr
    pid = int(r.stdout.strip())
    deadline = time.monotonic() + 5
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(pid), "server %d outlived the crashed test" % pid
