#!/usr/bin/env python3
"""make_seeds.py: writes the seed corpora of the Twilsock fuzz targets (fuzz/corpus/twilsock
and fuzz/corpus/websocket) from the frames the tests use: the JS client's frames of
tests/test_twilsock_frame.c, the Sync client API requests the SDK tunnels, and the frames of
tests/test_twilsock_limits.c and tests/test_websocket_*.c (nested headers, long tokens and ids,
pings, fragments, bad control frames). The corpora are committed; run this again after
changing it. SIDs are placeholders (IS/TO + 32 zeros) that the targets replace."""
import json
import os
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))
SEP = b"\xff\xfe\xfd"
IS = "IS" + "0" * 32
TO = "TO" + "0" * 32
BAD_TOKEN = "eyJhbGciOiJIUzI1NiJ9.e30.sig"


def ts(header, payload=b""):
    """A Twilsock frame as the JS client writes it (payload_size last, the CRLF always)."""
    if isinstance(payload, str):
        payload = payload.encode()
    head = dict(header)
    head["payload_size"] = len(payload)
    text = json.dumps(head, separators=(",", ":"), ensure_ascii=False).encode()
    return b"TWILSOCK V3.0 %d\r\n" % len(text) + text + b"\r\n" + payload


def raw_header_frame(header_text):
    return b"TWILSOCK V3.0 %d\r\n" % len(header_text) + header_text + b"\r\n"


def message(id_, method, path, body=None):
    header = {"id": id_, "method": "message", "active_grant": "data_sync",
              "payload_type": "application/json",
              "http_request": {"host": "127.0.0.1:8080", "path": path, "method": method,
                               "headers": {"Content-Type": "application/json"}}}
    return ts(header, json.dumps(body) if body is not None else b"")


JS_INIT = ts({"id": "TM0001", "method": "init", "token": BAD_TOKEN,
              "metadata": {"env": "Node.js", "sdk": "JS"},
              "registrations": [{"product": "data_sync", "type": "ers",
                                 "notification_protocol_version": 0,
                                 "message_types": ["twilio.sync.event"]}],
              "capabilities": ["client_update", "offline_storage", "telemetry.v1"]})
JS_REPLY = ts({"id": "TM0003", "method": "reply", "payload_type": "application/json",
               "status": {"code": 200, "status": "OK"}})
JS_UPDATE = ts({"id": "TM0004", "method": "update", "token": "tok2"})
JS_CLOSE = ts({"id": "TM0005", "method": "close"})

API = [
    message("TM10", "POST", "/v3/Streams", {"unique_name": "caf\u00e9", "ttl": 60}),
    message("TM11", "GET", "/v3/Streams/fz"),
    message("TM12", "GET", "http://127.0.0.1:8080/v3/Streams/" + TO),
    message("TM13", "POST", "/v3/Services/%s/Streams/%s/Messages" % (IS, TO),
            {"data": {"text": "hi", "n": [1, 2, {"deep": True}]}}),
    message("TM14", "POST", "/v4/Subscriptions",
            {"event_protocol_version": 4, "action": "establish", "correlation_id": 7,
             "requests": [{"object_sid": TO, "object_type": "stream", "last_event_id": 0}]}),
    message("TM15", "POST", "/v3/Services/%s/Streams/fz/Messages" % IS, {"data": "text"}),
    message("TM16", "POST", "/v4/Subscriptions",
            {"action": "cancel", "correlation_id": "c1",
             "requests": [{"object_sid": TO, "object_type": "stream"}]}),
    message("TM17", "POST", "/v3/Streams/fz", {"ttl": 10}),
    message("TM18", "DELETE", "/v3/Services/%s/Streams/%s" % (IS, TO), {}),
    message("TM19", "GET", "/v3/Configuration"),
    message("TM20", "POST", "/v3/Streams/%41b?x=1", {"ttl": "x"}),
]

NESTED = raw_header_frame(b'{"a":' + b"[" * 40 + b"]" * 40 + b"}")
LONG_TOKEN = ts({"id": "TM30", "method": "init", "token": "e" * 9216})
LONG_ID = ts({"id": "i" * 128, "method": "init", "token": "not.a.token"})
ID_AT_CAP = ts({"id": "j" * 1024, "method": "init", "token": "x"})
ID_OVER_CAP = ts({"id": "k" * 1025, "method": "init", "token": "x"})
ESCAPES = ts({"id": "TM\u00e9\\\"\n", "method": "update", "token": "a\u0000b"})

TWILSOCK = {
    "js_frames_before_init": [JS_INIT, JS_REPLY, JS_UPDATE, JS_CLOSE],
    "api_before_init": [API[1]],
    "api_after_init": API,
    "api_then_close": API[:3] + [JS_CLOSE] + API[3:5],
    "nested_header": [NESTED, JS_INIT],
    "long_token_and_ids": [LONG_TOKEN, LONG_ID, ID_AT_CAP, ID_OVER_CAP],
    "escapes_after_init": [ESCAPES, JS_UPDATE],
}
AFTER_INIT = {"api_after_init", "api_then_close", "escapes_after_init"}


def ws(opcode, payload, fin=True, mask=b"\x00\x00\x00\x00", length_form=None):
    """A masked client frame; length_form forces 126/127 (a non-shortest form if small)."""
    n = len(payload)
    head = bytes([(0x80 if fin else 0) | opcode])
    form = length_form or (n if n < 126 else 126 if n <= 0xFFFF else 127)
    if form < 126:
        head += bytes([0x80 | n])
    elif form == 126:
        head += bytes([0x80 | 126]) + n.to_bytes(2, "big")
    else:
        head += bytes([0x80 | 127]) + n.to_bytes(8, "big")
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return head + mask + body


CLOSE_1000 = ws(8, b"\x03\xe8", mask=b"\x11\x22\x33\x44")
WEBSOCKET = {
    "api_after_init": (1, b"".join(ws(2, f) for f in API) + CLOSE_1000),
    "text_init_then_ping": (0, ws(1, JS_INIT) + ws(9, b"ping!", mask=b"\x01\x02\x03\x04") +
                            CLOSE_1000),
    "fragments_with_ping": (1, ws(2, API[1][:20], fin=False) + ws(9, b"p") +
                            ws(0, API[1][20:50], fin=False, mask=b"\x05\x06\x07\x08") +
                            ws(0, API[1][50:]) + CLOSE_1000),
    "ping_over_125": (0, ws(2, JS_CLOSE) + ws(9, b"p" * 126)),
    "fragmented_ping": (0, ws(9, b"ping", fin=False)),
    "short_length_in_16_bits": (0, ws(2, b"hello", length_form=126)),
    "short_length_in_64_bits": (0, ws(2, b"hello", length_form=127)),
    "nested_header": (0, ws(2, NESTED) + ws(10, b"")),
    "long_token": (0, ws(2, LONG_TOKEN) + ws(2, LONG_ID) + CLOSE_1000),
    "bad_close_code": (1, ws(8, b"\x03\xed")),
    "continuation_first": (0, ws(0, b"abc")),
    "extra_bytes": (2 | (6 << 2), ws(9, b"extra", mask=b"\x09\x09\x09\x09") + CLOSE_1000),
}


def write(directory, name, data):
    with open(os.path.join(directory, name), "wb") as f:
        f.write(data)


def main():
    for sub in ("twilsock", "websocket"):
        d = os.path.join(HERE, "corpus", sub)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
    for name, frames in TWILSOCK.items():
        flags = b"\x01" if name in AFTER_INIT else b"\x00"
        write(os.path.join(HERE, "corpus", "twilsock"), name, flags + SEP.join(frames))
    for name, (flags, data) in WEBSOCKET.items():
        write(os.path.join(HERE, "corpus", "websocket"), name, bytes([flags]) + data)


if __name__ == "__main__":
    main()
