"""RFC 3161 timestamps for custody-log checkpoints.

A checkpoint's exact note bytes are hashed with SHA-256 and sent to each configured Time
Stamp Authority; the whole DER ``TimeStampResp`` it answers is kept as the token, so
``openssl ts -verify -in token`` works on it as stored. Without a network or a TSA the
checkpoint simply stays unstamped: :func:`stamp` reports failures and never raises for them.

This module imports nothing from Svidok, so the standalone verifier can carry it as is.
"""

from __future__ import annotations

import hashlib
import http.client
import re
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final
from urllib.parse import urlsplit

from cryptography import x509
from rfc3161_client import (
    HashAlgorithm,
    PKIStatus,
    TimestampRequestBuilder,
    TimeStampResponse,
    VerificationError,
    VerifierBuilder,
    decode_timestamp_response,
)

# A token is a few kilobytes; anything far larger is not a timestamp and is not kept in memory.
MAX_REPLY_BYTES: Final = 1 << 20
QUERY_TYPE: Final = "application/timestamp-query"
REPLY_TYPE: Final = "application/timestamp-reply"
SHA256: Final = x509.ObjectIdentifier("2.16.840.1.101.3.4.2.1")
_CHUNK: Final = 64 * 1024


class TimestampError(Exception):
    """A TSA could not be reached or its answer, or a stored token, is not acceptable."""


@dataclass(frozen=True)
class Stamp:
    tsa_url: str
    # The full DER TimeStampResp as the TSA sent it.
    token: bytes
    gen_time: datetime
    serial: int
    # SHA-256 of the stamped bytes: the token's message imprint.
    digest: bytes


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # urllib would replay a redirected POST as a bodiless GET; a TSA has no reason to
    # redirect, so a 3xx is reported as the failure it is.
    def redirect_request(self, req: urllib.request.Request, fp: object, code: int, msg: str,
                         headers: object, newurl: str) -> None:
        return None


def _where(url: str) -> str:
    # Messages end up in logs, so they leave out what may be secret: a password before the
    # host, an access key in the query string.
    parts = urlsplit(url)
    if parts.netloc:
        return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}{parts.path}"
    return repr(url.rpartition("@")[2][:80])


def _check_url(url: str) -> None:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- raises ValueError for a port that is not a number
    except ValueError:
        raise TimestampError(f"TSA {_where(url)}: not a valid URL") from None
    if parts.username is not None or parts.password is not None:
        # They would be stored with every token.
        raise TimestampError(f"TSA {_where(url)}: user names and passwords in TSA URLs "
                             "are not supported")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TimestampError(f"TSA {_where(url)}: only http:// and https:// URLs are used")


def _post(url: str, query: bytes, timeout: float) -> bytes:
    where = _where(url)
    request = urllib.request.Request(  # noqa: S310 -- _check_url let only http(s) through
        url, data=query, method="POST",
        headers={"Content-Type": QUERY_TYPE, "Accept": REPLY_TYPE})
    # The socket timeout bounds each read; the deadline bounds a server that trickles bytes.
    deadline = time.monotonic() + timeout
    # Built per request so that proxy variables (HTTPS_PROXY, NO_PROXY) are read when used.
    opener = urllib.request.build_opener(_NoRedirects)
    try:
        with opener.open(request, timeout=timeout) as response:
            length = response.headers.get("Content-Length", "").strip()
            if length.isdigit() and int(length) > MAX_REPLY_BYTES:
                raise TimestampError(f"TSA {where}: reply of {length} bytes is larger than "
                                     f"{MAX_REPLY_BYTES} bytes")
            body = bytearray()
            # read1 returns what one socket read brings, so the deadline is checked often.
            while chunk := response.read1(_CHUNK):
                body += chunk
                if len(body) > MAX_REPLY_BYTES:
                    raise TimestampError(f"TSA {where}: reply is larger than "
                                         f"{MAX_REPLY_BYTES} bytes")
                if time.monotonic() > deadline:
                    raise TimestampError(f"TSA {where}: no complete reply within {timeout:g} s")
            return bytes(body)
    except urllib.error.HTTPError as exc:
        exc.close()
        raise TimestampError(f"TSA {where}: HTTP status {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError):
            raise TimestampError(f"TSA {where}: no answer within {timeout:g} s") from None
        raise TimestampError(f"TSA {where}: cannot connect ({exc.reason})") from None
    except TimeoutError:
        raise TimestampError(f"TSA {where}: no answer within {timeout:g} s") from None
    except (OSError, http.client.HTTPException, ValueError) as exc:
        raise TimestampError(f"TSA {where}: connection failed ({exc!r})") from None


def _decode(token: bytes, where: str) -> TimeStampResponse:
    try:
        response = decode_timestamp_response(token)
    except ValueError:
        raise TimestampError(f"{where}: not an RFC 3161 timestamp reply") from None
    if response.status != PKIStatus.GRANTED:
        # The status text is the TSA's own explanation, useful and never about the data.
        text = "; ".join(response.status_string)[:200]
        raise TimestampError(f"{where}: request not granted (status {response.status}"
                             + (f": {text})" if text else ")"))
    try:
        response.tst_info  # noqa: B018 -- raises ValueError when the token is missing
    except ValueError:
        raise TimestampError(f"{where}: reply grants a timestamp but holds no token") from None
    return response


def _check_imprint(response: TimeStampResponse, digest: bytes, where: str) -> None:
    imprint = response.tst_info.message_imprint
    if imprint.hash_algorithm != SHA256:
        raise TimestampError(f"{where}: token is not over a SHA-256 digest")
    if imprint.message != digest:
        raise TimestampError(f"{where}: token is for other data (message imprint differs)")


def request_stamp(data: bytes, url: str, *, timeout: float) -> Stamp:
    """Ask one TSA to timestamp ``data``; :class:`TimestampError` says which TSA and why not.

    Raises ``ValueError`` for empty data: a checkpoint note is never empty.
    """
    if not data:
        raise ValueError("there is nothing to timestamp")
    _check_url(url)
    where = f"TSA {_where(url)}"
    request = (TimestampRequestBuilder().data(data).hash_algorithm(HashAlgorithm.SHA256)
               .nonce(nonce=True).cert_request(cert_request=True).build())
    token = _post(url, request.as_bytes(), timeout)
    response = _decode(token, where)
    digest = hashlib.sha256(data).digest()
    _check_imprint(response, digest, where)
    # The nonce proves the token answers this request and is not a replayed older one.
    if response.tst_info.nonce != request.nonce:
        raise TimestampError(f"{where}: reply does not carry the request's nonce")
    tst = response.tst_info
    return Stamp(tsa_url=url, token=token, gen_time=tst.gen_time, serial=tst.serial_number,
                 digest=digest)


def stamp(data: bytes, urls: Sequence[str], *, timeout: float) -> tuple[list[Stamp], list[str]]:
    """Ask every TSA in turn; return the stamps obtained and one message per failure."""
    stamps: list[Stamp] = []
    errors: list[str] = []
    for url in urls:
        try:
            stamps.append(request_stamp(data, url, timeout=timeout))
        except TimestampError as exc:
            errors.append(str(exc))
    return stamps, errors


def _load_roots(roots: Sequence[bytes]) -> list[x509.Certificate]:
    loaded: list[x509.Certificate] = []
    for blob in roots:
        try:
            if b"-----BEGIN" in blob:
                loaded.extend(x509.load_pem_x509_certificates(blob))
            else:
                loaded.append(x509.load_der_x509_certificate(blob))
        except ValueError:
            raise TimestampError("a trusted root is not a PEM or DER certificate") from None
    # VerifierBuilder refuses the same root twice; a bundle may well repeat one.
    return list(dict.fromkeys(loaded))


def _reason(exc: Exception) -> str:
    # OpenSSL failures arrive as a debug dump of its error stack; its reasons are the point.
    text = str(exc)
    details = re.findall(r'(?:reason|data): "([^"]+)"', text)
    return "; ".join(dict.fromkeys(details)) if details else text[:300]


def check_stamp(stamp_token: bytes, data: bytes, *, roots: Sequence[bytes] = ()) -> datetime:
    """Check a stored token covers ``data`` and return its time.

    With ``roots`` (PEM or DER CA certificates), the token's signature and its TSA's
    certificate chain must also verify up to one of them; without, only the imprint is
    checked, which proves nothing about who made the token.
    """
    where = "timestamp token"
    response = _decode(stamp_token, where)
    _check_imprint(response, hashlib.sha256(data).digest(), where)
    if roots:
        builder = VerifierBuilder()
        for root in _load_roots(roots):
            builder = builder.add_root_certificate(root)
        # The TSA certificate is deliberately not passed as tsa_certificate: rfc3161-client
        # puts that certificate into the trust store, so one taken from the token would
        # vouch for itself (a forged token with a self-signed TSA certificate verified).
        # Left out, the library picks the signer from the token's embedded certificates
        # and only ``roots`` are trusted.
        try:
            builder.build().verify_message(response, data)
        except (VerificationError, ValueError) as exc:
            raise TimestampError(f"{where}: does not verify against the trusted roots "
                                 f"({_reason(exc)})") from None
    return response.tst_info.gen_time
