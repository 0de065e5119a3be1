"""A real RFC 3161 timestamp authority for tests: OpenSSL's ``openssl ts -reply`` behind a small
loopback HTTP server, with a throwaway CA and a TSA certificate whose extendedKeyUsage is
``critical,timeStamping``."""

from __future__ import annotations

import subprocess
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

CONFIG = """
[ tsa ]
default_tsa = tsa_config
[ tsa_config ]
dir = {dir}
serial = $dir/serial
crypto_device = builtin
signer_cert = $dir/tsa.crt
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
other_policies = 1.2.3.4.5
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = no
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


def _run(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_authority(folder: Path, name: str = "tsa") -> Path:
    """A CA (``ca.crt``) and a TSA key and certificate it signed, and the ``ts`` config."""
    folder.mkdir(parents=True, exist_ok=True)
    _run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt",
         "-days", "3650", "-subj", f"/CN=recordkeep test CA {name}", cwd=folder)
    _run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "tsa.key", "-out", "tsa.csr",
         "-subj", f"/CN=recordkeep test TSA {name}", cwd=folder)
    (folder / "ext.cnf").write_text("extendedKeyUsage = critical,timeStamping\n"
                                    "keyUsage = critical,digitalSignature\n", encoding="utf-8")
    _run("x509", "-req", "-in", "tsa.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
         "-out", "tsa.crt", "-days", "3650", "-extfile", "ext.cnf", cwd=folder)
    (folder / "serial").write_text("01\n", encoding="utf-8")
    (folder / "tsa.cnf").write_text(CONFIG.format(dir=folder), encoding="utf-8")
    return folder


class Authority:
    """``openssl ts -reply`` served over HTTP on 127.0.0.1 (``url``)."""

    def __init__(self, folder: Path) -> None:
        self.folder = make_authority(folder)
        self.ca = self.folder / "ca.crt"
        self.requests = 0
        authority = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                query = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                authority.requests += 1
                with tempfile.TemporaryDirectory() as work:
                    (Path(work) / "q.tsq").write_bytes(query)
                    config = str(authority.folder / "tsa.cnf")
                    done = subprocess.run(["openssl", "ts", "-reply", "-config", config, "-queryfile",
                                           "q.tsq", "-out", "r.tsr"], cwd=work, capture_output=True)
                    reply = (Path(work) / "r.tsr").read_bytes() if done.returncode == 0 else b""
                self.send_response(200 if reply else 500)
                self.send_header("Content-Type", "application/timestamp-reply")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/tsa"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
