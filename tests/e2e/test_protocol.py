"""The Varlink protocol on the wire, with raw bytes."""

import json
import os
import socket
import time

import pytest

import varlink
from conftest import INTERFACE_FILE, check_status

MAX_MESSAGE = 16 * 1024 * 1024   # VL_MAX_MESSAGE in proto/vl_frame.h


def assert_serving(daemon):
    """A fresh client still gets a good GetStatus, and the daemon lives."""
    daemon.check_alive()
    reply = daemon.call("io.migrated.GetStatus")
    assert "error" not in reply, reply
    check_status(reply["parameters"]["status"])


def assert_error(reply, error, **params):
    assert reply.get("error") == error, reply
    for k, v in params.items():
        assert reply.get("parameters", {}).get(k) == v, reply


def test_get_info(daemon, version):
    reply = daemon.call("org.varlink.service.GetInfo")
    assert "error" not in reply, reply
    info = reply["parameters"]
    assert info["vendor"] == "migrated project"
    assert info["product"] == "migrated"
    assert info["version"] == version
    assert isinstance(info["url"], str) and info["url"]
    assert info["interfaces"] == ["org.varlink.service", "io.migrated"]


def test_get_status(daemon):
    reply = daemon.call("io.migrated.GetStatus")
    assert set(reply) <= {"parameters"}, reply
    assert set(reply["parameters"]) == {"status"}, reply
    check_status(reply["parameters"]["status"])


def test_interface_description_is_the_idl_file_verbatim(daemon):
    reply = daemon.call("org.varlink.service.GetInterfaceDescription",
                        {"interface": "io.migrated"})
    assert "error" not in reply, reply
    expected = INTERFACE_FILE.read_bytes().decode("utf-8")
    assert reply["parameters"]["description"] == expected


def test_interface_description_of_unknown_interface(daemon):
    reply = daemon.call("org.varlink.service.GetInterfaceDescription",
                        {"interface": "com.example.nothing"})
    assert_error(reply, "org.varlink.service.InterfaceNotFound",
                 interface="com.example.nothing")


def test_unknown_interface(daemon):
    reply = daemon.call("com.example.nothing.Frob")
    assert_error(reply, "org.varlink.service.InterfaceNotFound",
                 interface="com.example.nothing")


@pytest.mark.parametrize("method", ["io.migrated.Frob",
                                    "org.varlink.service.Frob"])
def test_unknown_method(daemon, method):
    reply = daemon.call(method)
    assert_error(reply, "org.varlink.service.MethodNotFound", method=method)


@pytest.mark.parametrize("params", [{"interface": 42}, {"interface": None},
                                    {}, {"interface": ["io.migrated"]}],
                         ids=["int", "null", "absent", "array"])
def test_bad_parameter_type(daemon, params):
    reply = daemon.call("org.varlink.service.GetInterfaceDescription", params)
    assert_error(reply, "org.varlink.service.InvalidParameter",
                 parameter="interface")


def test_unknown_parameter(daemon):
    reply = daemon.call("io.migrated.GetStatus", {"bogus": 1})
    assert_error(reply, "org.varlink.service.InvalidParameter",
                 parameter="bogus")


def test_replies_carry_only_reply_keys(daemon):
    # varlink.Client checks every reply; make it see each kind.
    with daemon.client() as c:
        for method in ("io.migrated.GetStatus", "org.varlink.service.GetInfo",
                       "io.migrated.Frob", "nothing.Frob"):
            reply = c.call(method)
            assert set(reply) <= varlink.REPLY_KEYS


def test_several_calls_in_one_write_answered_in_order(daemon):
    calls = [("org.varlink.service.GetInfo", None),
             ("io.migrated.GetStatus", None),
             ("io.migrated.Frob", None),
             ("org.varlink.service.GetInterfaceDescription",
              {"interface": "io.migrated"}),
             ("io.migrated.GetStatus", None)]
    with daemon.client() as c:
        c.send_bytes(b"".join(varlink.encode_call(m, p) for m, p in calls))
        replies = [c.read_message() for _ in calls]
    assert "interfaces" in replies[0]["parameters"], replies[0]
    assert "status" in replies[1]["parameters"], replies[1]
    assert replies[2].get("error") == "org.varlink.service.MethodNotFound"
    assert "description" in replies[3]["parameters"], replies[3]
    assert "status" in replies[4]["parameters"], replies[4]


def test_one_call_split_byte_by_byte(daemon):
    data = varlink.encode_call("io.migrated.GetStatus") + \
        varlink.encode_call("org.varlink.service.GetInfo")
    with daemon.client() as c:
        for i in range(len(data)):
            c.send_bytes(data[i:i + 1])
            if i % 8 == 0:
                time.sleep(0.002)   # make the daemon see separate reads
        first = c.read_message()
        second = c.read_message()
    assert "status" in first["parameters"], first
    assert "interfaces" in second["parameters"], second


def test_oneway_call_gets_no_reply(daemon):
    with daemon.client() as c:
        c.send_call("io.migrated.GetStatus", oneway=True)
        c.send_call("org.varlink.service.GetInfo")
        reply = c.read_message()
        assert "interfaces" in reply["parameters"], (
            "the oneway call was answered: %r" % reply)
        # Nothing else arrives.
        c.sock.settimeout(0.3)
        with pytest.raises(socket.timeout):
            c.sock.recv(1)


BAD_MESSAGES = {
    "malformed-json": b'{"method": "io.migrated.GetStatus"\0',
    "truncated-json": b'{"method":\0',
    "not-utf8": b'{"method": "io.migrated.\xff\xfe"}\0',
    "array": b'["io.migrated.GetStatus"]\0',
    "string": b'"io.migrated.GetStatus"\0',
    "number": b'42\0',
    "null": b'null\0',
    "empty": b'\0',
    "no-method": b'{"parameters": {}}\0',
    "method-not-string": b'{"method": 7}\0',
    "method-no-interface": b'{"method": "GetStatus"}\0',
    "parameters-not-object": b'{"method": "io.migrated.GetStatus", '
                             b'"parameters": [1]}\0',
    "oneway-not-bool": b'{"method": "io.migrated.GetStatus", "oneway": 1}\0',
    "nested-deep": b'{"method": "io.migrated.GetStatus", "parameters": '
                   + b'{"a":' * 100000 + b'1' + b'}' * 100001 + b'\0',
}


@pytest.mark.parametrize("data", list(BAD_MESSAGES.values()),
                         ids=list(BAD_MESSAGES))
def test_bad_message_gets_error_or_close(daemon, data):
    with daemon.client() as bystander, daemon.client() as c:
        try:
            c.send_bytes(data)
            reply = c.read_message(timeout=5)
        except (varlink.Closed, BrokenPipeError, ConnectionResetError):
            reply = None
        except TimeoutError:
            pytest.fail("neither an error reply nor a closed connection "
                        "within 5 s")
        if reply is not None:
            assert "error" in reply, "a bad message was answered: %r" % reply
        # Other clients are not disturbed.
        assert "status" in bystander.call("io.migrated.GetStatus")["parameters"]
    assert_serving(daemon)


def test_message_over_16_mib_without_nul_closes_connection(daemon):
    chunk = b"x" * (1024 * 1024)
    with daemon.client(timeout=20) as c:
        c.send_bytes(b'{"method": "io.migrated.GetStatus", "parameters": '
                     b'{"pad": "')
        sent = 0
        try:
            while sent <= MAX_MESSAGE + len(chunk):
                c.send_bytes(chunk)
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass   # closed while we were still sending: fine
        assert c.is_closed(timeout=10), (
            "connection still open after %d bytes without NUL" % sent)
    assert_serving(daemon)


def test_message_just_under_the_cap_is_read(daemon):
    """A big but legal message is read to its end, not cut off: here it is
    answered with an error for its unknown parameter."""
    pad = "x" * (MAX_MESSAGE - 200)
    with daemon.client(timeout=30) as c:
        c.send_call("io.migrated.GetStatus", {"pad": pad})
        reply = c.read_message(timeout=30)
        assert_error(reply, "org.varlink.service.InvalidParameter",
                     parameter="pad")
        assert "status" in c.call("io.migrated.GetStatus")["parameters"]


def test_binary_junk(daemon):
    junk = os.urandom(256 * 1024)
    with daemon.client() as bystander, daemon.client() as c:
        try:
            c.send_bytes(junk)
            while True:     # drain whatever errors come back until EOF
                reply = c.read_message(timeout=5)
                assert "error" in reply, reply
        except (varlink.Closed, BrokenPipeError, ConnectionResetError,
                TimeoutError, ValueError):
            pass
        assert "status" in bystander.call("io.migrated.GetStatus")["parameters"]
    assert_serving(daemon)


def test_client_that_disconnects_mid_message(daemon):
    with daemon.client() as c:
        c.send_bytes(b'{"method": "io.migrated.GetSt')
    with daemon.client() as c:
        c.send_call("io.migrated.GetStatus")
        c.sock.shutdown(socket.SHUT_RDWR)   # gone before the reply
    assert_serving(daemon)


def test_client_that_never_reads_its_replies_is_dropped(daemon):
    """Thousands of calls in one write whose replies pile up past the
    daemon's output cap (64 MiB) while they are answered: that client is
    dropped, the daemon serves others."""
    call = varlink.encode_call("org.varlink.service.GetInterfaceDescription",
                               {"interface": "io.migrated"})
    with daemon.client(timeout=20) as c:
        try:
            c.send_bytes(call * 12000)
        except (BrokenPipeError, ConnectionResetError):
            pass   # dropped while we were still sending: fine
        assert c.is_closed(timeout=20)
    assert_serving(daemon)


def test_300_simultaneous_clients(daemon):
    clients = []
    try:
        for _ in range(300):
            clients.append(daemon.client(timeout=20))
        for c in clients:
            c.send_call("io.migrated.GetStatus")
        for i, c in enumerate(clients):
            reply = c.read_message(timeout=20)
            assert "status" in reply.get("parameters", {}), (i, reply)
    finally:
        for c in clients:
            c.close()
    assert_serving(daemon)


def test_reply_is_one_json_object_per_nul(daemon):
    with daemon.client() as c:
        c.send_call("io.migrated.GetStatus")
        raw = b""
        while not raw.endswith(b"\0"):
            raw += c.sock.recv(65536)
    assert raw.count(b"\0") == 1
    json.loads(raw[:-1].decode("utf-8"))


def test_client_that_closes_its_sending_side_gets_every_answer(daemon):
    """socat and `nc -N` shut down their sending side after the last call;
    the answers still come, database-backed ones included, then the
    daemon closes."""
    calls = [{"method": "io.migrated.ListJobs", "parameters": {}},
             {"method": "io.migrated.GetStatus"},
             {"method": "io.migrated.ListJobs", "parameters": {"limit": 1}}]
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(10)
        s.connect(daemon.socket)
        s.sendall(b"".join(json.dumps(c).encode() + b"\0" for c in calls))
        s.shutdown(socket.SHUT_WR)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    replies = [json.loads(m) for m in data.split(b"\0") if m]
    assert len(replies) == 3, replies
    assert replies[0]["parameters"]["jobs"] == []
    assert "status" in replies[1]["parameters"]
    assert replies[2]["parameters"]["jobs"] == []
