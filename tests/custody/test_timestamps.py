"""RFC 3161 timestamps: real round trips against a local OpenSSL TSA on 127.0.0.1.

The stamped data here stands for a checkpoint note; the tests also make sure it never
appears in an error message.
"""

from __future__ import annotations

import hashlib
import re
import socket
import subprocess
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from rfc3161_client import HashAlgorithm, TimestampRequestBuilder

from custody.tsa import TSA_CNF, LocalTSA, make_ca, openssl
from svidok.custody.timestamps import (
    MAX_REPLY_BYTES,
    TimestampError,
    check_stamp,
    request_stamp,
    stamp,
)

NOTE = b"svidok.example/log\n42\nc2VjcmV0IHdpdG5lc3MgbmFtZXMgbmV2ZXIgbG9nZ2Vk\n"
SECRET = b"c2VjcmV0IHdpdG5lc3MgbmFtZXMgbmV2ZXIgbG9nZ2Vk"


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/tsr"


def assert_no_data_in(messages: list[str]) -> None:
    for message in messages:
        assert SECRET.decode() not in message


def test_stamp_round_trip(local_tsa: LocalTSA) -> None:
    before = datetime.now(UTC)
    stamps, errors = stamp(NOTE, [local_tsa.url], timeout=10)
    assert errors == []
    [got] = stamps
    assert got.tsa_url == local_tsa.url
    assert got.digest == hashlib.sha256(NOTE).digest()
    assert got.gen_time.utcoffset() == timedelta(0)
    # gen_time has whole seconds and the TSA allows one second of accuracy.
    assert before - timedelta(seconds=2) <= got.gen_time <= datetime.now(UTC) + timedelta(seconds=2)
    assert got.serial > 0
    assert local_tsa.requests == 1
    assert check_stamp(got.token, NOTE, roots=[local_tsa.ca_pem]) == got.gen_time
    assert check_stamp(got.token, NOTE) == got.gen_time


def test_token_verifies_with_openssl_alone(local_tsa: LocalTSA, tmp_path: Path) -> None:
    got = request_stamp(NOTE, local_tsa.url, timeout=10)
    (tmp_path / "checkpoint.txt").write_bytes(NOTE)
    (tmp_path / "token.tsr").write_bytes(got.token)
    done = subprocess.run(
        ["openssl", "ts", "-verify", "-data", "checkpoint.txt", "-in", "token.tsr",
         "-CAfile", str(local_tsa.ca_path), "-untrusted", str(local_tsa.tsa_cert_path)],
        cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False)
    assert "Verification: OK" in done.stdout, done.stdout + done.stderr


def test_der_root_and_root_bundle_work_too(local_tsa: LocalTSA, tmp_path: Path) -> None:
    got = request_stamp(NOTE, local_tsa.url, timeout=10)
    der = x509.load_pem_x509_certificate(local_tsa.ca_pem).public_bytes(Encoding.DER)
    assert check_stamp(got.token, NOTE, roots=[der]) == got.gen_time
    other = make_ca(tmp_path, "other-root").read_bytes()
    bundle = other + local_tsa.ca_pem + local_tsa.ca_pem
    assert check_stamp(got.token, NOTE, roots=[bundle]) == got.gen_time


@pytest.mark.parametrize("with_roots", [True, False])
def test_one_changed_byte_of_data_fails(local_tsa: LocalTSA, with_roots: bool) -> None:
    got = request_stamp(NOTE, local_tsa.url, timeout=10)
    changed = bytearray(NOTE)
    changed[5] ^= 0x01
    roots = [local_tsa.ca_pem] if with_roots else []
    with pytest.raises(TimestampError, match="other data") as caught:
        check_stamp(got.token, bytes(changed), roots=roots)
    assert_no_data_in([str(caught.value)])


def test_wrong_root_fails(local_tsa: LocalTSA, tmp_path: Path) -> None:
    got = request_stamp(NOTE, local_tsa.url, timeout=10)
    other = make_ca(tmp_path, "other-root").read_bytes()
    with pytest.raises(TimestampError, match="does not verify against the trusted roots"):
        check_stamp(got.token, NOTE, roots=[other])


def test_tampered_signature_fails(local_tsa: LocalTSA) -> None:
    token = bytearray(request_stamp(NOTE, local_tsa.url, timeout=10).token)
    token[-3] ^= 0x01  # inside the ECDSA signature, the token's last field
    with pytest.raises(TimestampError, match="does not verify"):
        check_stamp(bytes(token), NOTE, roots=[local_tsa.ca_pem])


def test_self_signed_tsa_certificate_in_token_does_not_vouch_for_itself(
        local_tsa: LocalTSA, tmp_path: Path) -> None:
    # A forger signs a token with a self-signed certificate carrying the timeStamping usage
    # and embeds it; passing that certificate to rfc3161-client as the TSA certificate would
    # make it trusted.
    (tmp_path / "tsa.cnf").write_text(TSA_CNF)
    (tmp_path / "tsaserial").write_text("01\n")
    openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", "forged.key", "-out", "forged.crt", "-days", "30", "-subj", "/CN=Forged",
             "-config", "tsa.cnf", "-extensions", "tsa_ext"], tmp_path)
    query = (TimestampRequestBuilder().data(NOTE).hash_algorithm(HashAlgorithm.SHA256)
             .cert_request(cert_request=True).build())
    (tmp_path / "q.tsq").write_bytes(query.as_bytes())
    openssl(["ts", "-reply", "-config", "tsa.cnf", "-section", "tsa_config1",
             "-queryfile", "q.tsq", "-signer", "forged.crt", "-inkey", "forged.key",
             "-chain", "forged.crt", "-out", "r.tsr"], tmp_path)
    forged = (tmp_path / "r.tsr").read_bytes()
    check_stamp(forged, NOTE)  # the imprint alone is right: that proves nothing
    with pytest.raises(TimestampError, match="does not verify"):
        check_stamp(forged, NOTE, roots=[local_tsa.ca_pem])


def test_unreachable_tsa_is_listed_not_raised() -> None:
    url = closed_port_url()
    stamps, errors = stamp(NOTE, [url], timeout=5)
    assert stamps == []
    [error] = errors
    assert url.removesuffix("/tsr") in error
    assert "cannot connect" in error


def test_one_tsa_down_one_up_gives_one_stamp_and_one_error(local_tsa: LocalTSA) -> None:
    down = closed_port_url()
    stamps, errors = stamp(NOTE, [down, local_tsa.url], timeout=5)
    assert [s.tsa_url for s in stamps] == [local_tsa.url]
    assert len(errors) == 1
    assert down in errors[0]


@pytest.mark.parametrize(("status", "reply", "message"), [
    (500, None, "HTTP status 500"),
    (503, None, "HTTP status 503"),
    (None, b"<html>Service Unavailable</html>", "not an RFC 3161 timestamp reply"),
    (None, b"", "not an RFC 3161 timestamp reply"),
    # PKIStatusInfo rejection (2) and a "granted" reply that holds no token.
    (None, bytes.fromhex("3005300302010" + "2"), r"not granted \(status 2\)"),
    (None, bytes.fromhex("3005300302010" + "0"), "holds no token"),
])
def test_broken_tsa_replies_are_errors(local_tsa: LocalTSA, status: int | None,
                                       reply: bytes | None, message: str) -> None:
    local_tsa.fail_with = status
    local_tsa.reply_with = reply
    stamps, errors = stamp(NOTE, [local_tsa.url], timeout=5)
    assert stamps == []
    assert len(errors) == 1
    assert re.search(message, errors[0]), errors[0]
    assert local_tsa.url.removesuffix("/tsr") in errors[0]
    assert_no_data_in(errors)


def test_token_for_other_data_is_refused(local_tsa: LocalTSA) -> None:
    local_tsa.reply_with = request_stamp(b"another checkpoint\n", local_tsa.url, timeout=5).token
    with pytest.raises(TimestampError, match="message imprint differs"):
        request_stamp(NOTE, local_tsa.url, timeout=5)


def test_replayed_token_with_old_nonce_is_refused(local_tsa: LocalTSA) -> None:
    local_tsa.reply_with = request_stamp(NOTE, local_tsa.url, timeout=5).token
    with pytest.raises(TimestampError, match="nonce"):
        request_stamp(NOTE, local_tsa.url, timeout=5)


@pytest.mark.parametrize("url", [
    "file:///etc/passwd",
    "ftp://127.0.0.1/tsr",
    "127.0.0.1/tsr",
    "http:///tsr",
    "http://127.0.0.1:port/tsr",
])
def test_only_http_and_https_urls_are_used(local_tsa: LocalTSA, url: str) -> None:
    with pytest.raises(TimestampError, match=r"http:// and https://|not a valid URL"):
        request_stamp(NOTE, url, timeout=5)
    stamps, errors = stamp(NOTE, [url], timeout=5)
    assert stamps == [] and len(errors) == 1


def test_password_in_url_is_refused_and_never_shown(local_tsa: LocalTSA) -> None:
    with_password = local_tsa.url.replace("http://", "http://me:s3cret@")
    urls = [with_password, with_password.replace("http://", "ftp://"),
            with_password.replace("/tsr", "x/tsr")]
    stamps, errors = stamp(NOTE, urls, timeout=5)
    assert stamps == []
    assert "not supported" in errors[0]
    assert len(errors) == 3 and not any("s3cret" in error for error in errors)
    assert local_tsa.requests == 0


@pytest.mark.parametrize("send_length", [True, False])
def test_oversized_reply_is_capped(local_tsa: LocalTSA, send_length: bool) -> None:
    local_tsa.reply_with = b"\x30" * (MAX_REPLY_BYTES + 4096)
    local_tsa.send_length = send_length
    with pytest.raises(TimestampError, match="larger than"):
        request_stamp(NOTE, local_tsa.url, timeout=10)


def test_slow_tsa_times_out(local_tsa: LocalTSA) -> None:
    local_tsa.delay_seconds = 2.0
    with pytest.raises(TimestampError, match=r"no answer within 0\.3 s"):
        request_stamp(NOTE, local_tsa.url, timeout=0.3)


def test_trickling_tsa_is_cut_off_at_the_deadline(local_tsa: LocalTSA) -> None:
    # Each piece arrives well within the socket timeout; the whole reply does not.
    local_tsa.reply_with = b"\x30" * 4096
    local_tsa.chunk_delay_seconds = 0.1
    with pytest.raises(TimestampError, match=r"no complete reply within 0\.5 s"):
        request_stamp(NOTE, local_tsa.url, timeout=0.5)


def test_garbage_token_and_bad_root_are_timestamp_errors(local_tsa: LocalTSA) -> None:
    with pytest.raises(TimestampError, match="not an RFC 3161"):
        check_stamp(b"not a token", NOTE)
    token = request_stamp(NOTE, local_tsa.url, timeout=10).token
    with pytest.raises(TimestampError, match="not a PEM or DER certificate"):
        check_stamp(token, NOTE, roots=[b"-----BEGIN CERTIFICATE-----\nbroken\n"])


def test_empty_data_is_a_programming_error(local_tsa: LocalTSA) -> None:
    with pytest.raises(ValueError, match="nothing to timestamp"):
        stamp(b"", [local_tsa.url], timeout=5)


def test_concurrent_requests_get_distinct_serials(local_tsa: LocalTSA) -> None:
    serials: list[int] = []

    def one(i: int) -> None:
        serials.append(request_stamp(NOTE + str(i).encode(), local_tsa.url, timeout=30).serial)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(serials)) == 6
    assert local_tsa.requests == 6
