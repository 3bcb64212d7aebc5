"""A local RFC 3161 Time Stamp Authority for tests: OpenSSL behind a loopback HTTP server.

At start it makes a throwaway root CA and a TSA certificate signed by it (keys are made at
test time in the work folder, never committed), then answers ``application/timestamp-query``
POSTs on 127.0.0.1 by running ``openssl ts -reply``. Switches let a test break it:
``fail_with`` answers an HTTP error status, ``reply_with`` answers fixed bytes (garbage, an
oversized body), ``delay_seconds`` answers late, ``chunk_delay_seconds`` sends the reply
in small pieces with pauses between them.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType

MAX_QUERY_BYTES = 64 * 1024
REPLY_TYPE = "application/timestamp-reply"

TSA_CNF = """\
[ req ]
distinguished_name = req_dn
prompt = no
[ req_dn ]
CN = unused

[ ca_ext ]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash

# rfc3161-client requires the timeStamping key usage to be critical and the only one.
[ tsa_ext ]
basicConstraints = critical,CA:false
keyUsage = critical,digitalSignature
extendedKeyUsage = critical,timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[ tsa_config1 ]
serial = ./tsaserial
signer_cert = ./tsa.crt
certs = ./tsa.crt
signer_key = ./tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256,sha384,sha512
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


def openssl(args: list[str], cwd: Path) -> str:
    """Run openssl in ``cwd``; its standard output."""
    done = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=60, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"openssl {args[0]} failed: {done.stderr.strip()}")
    return done.stdout


def make_ca(workdir: Path, name: str) -> Path:
    """A self-signed P-256 root CA, ``<name>.crt`` and ``<name>.key`` in ``workdir``."""
    if not (workdir / "tsa.cnf").exists():
        (workdir / "tsa.cnf").write_text(TSA_CNF)
    openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", f"{name}.key", "-out", f"{name}.crt", "-days", "3650",
             "-subj", f"/CN={name}", "-config", "tsa.cnf", "-extensions", "ca_ext"], workdir)
    return workdir / f"{name}.crt"


class LocalTSA:
    """``with LocalTSA(tmp) as tsa:`` serves at ``tsa.url`` until the block ends."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.ca_path = workdir / "ca.crt"
        self.tsa_cert_path = workdir / "tsa.crt"
        self.url = ""
        self.requests = 0
        self.fail_with: int | None = None
        self.reply_with: bytes | None = None
        self.send_length = True
        self.delay_seconds = 0.0
        self.chunk_delay_seconds = 0.0
        self.count_lock = threading.Lock()
        # openssl ts -reply reads and rewrites the shared serial file.
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def ca_pem(self) -> bytes:
        return self.ca_path.read_bytes()

    @property
    def tsa_cert_pem(self) -> bytes:
        return self.tsa_cert_path.read_bytes()

    def reset(self) -> None:
        """Back to a working TSA with no requests counted."""
        self.requests = 0
        self.fail_with = None
        self.reply_with = None
        self.send_length = True
        self.delay_seconds = 0.0
        self.chunk_delay_seconds = 0.0

    def start(self) -> LocalTSA:
        if shutil.which("openssl") is None:
            raise RuntimeError("the openssl command is needed for a local TSA")
        work = self.workdir
        work.mkdir(parents=True, exist_ok=True)
        (work / "tsa.cnf").write_text(TSA_CNF)
        make_ca(work, "ca")
        openssl(["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                 "-keyout", "tsa.key", "-out", "tsa.csr", "-subj", "/CN=Local test TSA",
                 "-config", "tsa.cnf"], work)
        openssl(["x509", "-req", "-in", "tsa.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                 "-CAcreateserial", "-out", "tsa.crt", "-days", "3650", "-sha256",
                 "-extfile", "tsa.cnf", "-extensions", "tsa_ext"], work)
        (work / "tsaserial").write_text("01\n")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/tsr"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        name="local-tsa")
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def __enter__(self) -> LocalTSA:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop()

    def reply(self, query: bytes) -> bytes | None:
        """A signed reply to a DER query, or None if openssl refuses the query."""
        with self._lock:
            (self.workdir / "q.tsq").write_bytes(query)
            (self.workdir / "r.tsr").unlink(missing_ok=True)
            done = subprocess.run(
                ["openssl", "ts", "-reply", "-config", "tsa.cnf", "-section", "tsa_config1",
                 "-queryfile", "q.tsq", "-out", "r.tsr"],
                cwd=self.workdir, capture_output=True, timeout=60, check=False)
            if done.returncode != 0:
                return None
            return (self.workdir / "r.tsr").read_bytes()


def _handler_for(tsa: LocalTSA) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            with tsa.count_lock:
                tsa.requests += 1
            # The client may give up: it timed out, or stopped reading an oversized reply.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self._answer()

        def _answer(self) -> None:
            length_header = self.headers.get("Content-Length", "")
            length = int(length_header) if length_header.isdigit() else 0
            if not 0 < length <= MAX_QUERY_BYTES:
                self.send_error(413 if length else 411)
                return
            query = self.rfile.read(length)
            if tsa.delay_seconds:
                time.sleep(tsa.delay_seconds)
            if tsa.fail_with is not None:
                self.send_error(tsa.fail_with)
                return
            body = tsa.reply_with if tsa.reply_with is not None else tsa.reply(query)
            if body is None:
                self.send_error(400, "openssl refused the query")
                return
            self.send_response(200)
            self.send_header("Content-Type", REPLY_TYPE)
            if tsa.send_length:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if not tsa.chunk_delay_seconds:
                self.wfile.write(body)
                return
            for start in range(0, len(body), 256):
                self.wfile.write(body[start:start + 256])
                self.wfile.flush()
                time.sleep(tsa.chunk_delay_seconds)

        def log_message(self, format: str, *args: object) -> None:
            pass  # keep test output quiet

    return Handler
