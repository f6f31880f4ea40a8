"""Shared fixtures: a generated clip set and one tiny training run reused by many tests."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sensing.synthetic.clips import make_clip_set

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def clip_set(tmp_path_factory) -> Path:
    """Manifest of 16 generated clips per label (cough, snore, other) in 6 speaker groups."""
    return make_clip_set(tmp_path_factory.mktemp("clips"), clips_per_label=16, seed=3)


@pytest.fixture
def clip_copy(clip_set, tmp_path) -> Path:
    """A private, writable copy of the generated clip set; returns its manifest."""
    target = tmp_path / "clips"
    shutil.copytree(clip_set.parent, target)
    return target / "manifest.csv"


@pytest.fixture(scope="session")
def trained_run(clip_set, tmp_path_factory) -> Path:
    """Run folder of a 3-epoch training (about 25 steps) on the generated clips."""
    from training.audio.config import AudioTrainConfig
    from training.audio.train import train_audio

    out = tmp_path_factory.mktemp("run")
    train_audio(
        AudioTrainConfig(
            data=str(clip_set), out=str(out), epochs=3, batch_size=32, windows_per_clip=8, seed=0
        )
    )
    return out


def run_python(
    code: str, *, block: tuple[str, ...] = (), cwd: Path | None = None, env: dict | None = None
) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter where importing the ``block`` packages fails."""
    prelude = textwrap.dedent(f"""
        import sys
        class _Blocker:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in {block!r}:
                    raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
                return None
        sys.meta_path.insert(0, _Blocker())
        sys.path.insert(0, {str(REPO_ROOT)!r})
    """)
    return subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        cwd=cwd or REPO_ROOT,
        env={**os.environ, **(env or {})},
        timeout=300,
    )


def run_cli(
    args: list[str], *, block: tuple[str, ...] = (), cwd: Path | None = None, env: dict | None = None
) -> subprocess.CompletedProcess:
    """``sensing ARGS`` in a fresh interpreter, optionally with packages blocked."""
    return run_python(
        f"from sensing.cli import main\nsys.exit(main({args!r}))", block=block, cwd=cwd, env=env
    )


def run_main(args: list[str]) -> subprocess.CompletedProcess:
    """``sensing ARGS`` in this interpreter, for commands that stop before TensorFlow starts
    training (bad input): quicker than :func:`run_cli`, with the same exit status and output."""
    import contextlib
    import io

    from sensing.cli import main

    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        try:
            status = main(args)
        except SystemExit as exit_:  # argparse refusing an argument (it exits with an int)
            status = exit_.code if isinstance(exit_.code, int) else 1
    return subprocess.CompletedProcess(["sensing", *args], status, stdout.getvalue(), stderr.getvalue())


FULL_DISK_FREE_BYTES = 16 * 1024
"""Room left on the :func:`full_disk` file system: enough to start writing, not to finish."""


@pytest.fixture
def full_disk(tmp_path) -> Iterator[Path]:
    """An empty folder on a real, nearly full file system (a 256 KiB tmpfs with
    :data:`FULL_DISK_FREE_BYTES` left), so that writing there fails with ENOSPC part-way."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs to fill needs root")
    mount = tmp_path / "small-disk"
    mount.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)], capture_output=True, text=True
    )
    if mounted.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        stats = os.statvfs(mount)
        (mount / ".filler").write_bytes(b"\0" * (stats.f_bavail * stats.f_frsize - FULL_DISK_FREE_BYTES))
        (mount / "out").mkdir()
        yield mount / "out"
    finally:
        subprocess.run(["umount", "--lazy", str(mount)], check=True)


def assert_one_line_error(result: subprocess.CompletedProcess, status: int | None = None) -> str:
    """Check that a command failed as a user should see it: a non-zero exit status (``status``
    when given) and one readable ``error`` line on stderr, no traceback, no unexpected fault.
    Returns that line."""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if "error:" in line]
    assert result.returncode != 0, f"{result.args} succeeded; stderr: {result.stderr}"
    if status is not None:
        assert result.returncode == status, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert len(errors) == 1, f"expected one error line, got: {result.stderr}"
    assert "unexpected" not in errors[0], errors[0]
    return errors[0]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def mosquitto(config: Path | None = None) -> Iterator[int]:
    """A mosquitto broker on a free loopback port; yields the port. ``config``: a configuration
    file whose ``PORT`` is replaced by that port (default: ``mosquitto -p PORT``, anonymous)."""
    executable = shutil.which("mosquitto") or shutil.which("mosquitto", path="/usr/sbin:/usr/local/sbin")
    if executable is None:
        pytest.skip("mosquitto is not installed (apt-get install mosquitto)")
    port = free_port()
    if config is None:
        command = [executable, "-p", str(port)]
    else:
        config.write_text(config.read_text().replace("PORT", str(port)))
        command = [executable, "-c", str(config)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline, "mosquitto did not start"
                time.sleep(0.05)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def broker() -> Iterator[int]:
    """A mosquitto broker on a free loopback port; yields the port."""
    with mosquitto() as port:
        yield port


def retained_messages(port: int, topics: list[str], timeout_s: float = 10) -> dict[str, dict]:
    """The retained message of each topic, read by a fresh subscriber as Home Assistant would."""
    import paho.mqtt.client as mqtt

    received: dict[str, dict] = {}
    done = threading.Event()

    def on_message(client, userdata, message):
        received[message.topic] = {"payload": json.loads(message.payload), "retain": message.retain}
        if set(topics) <= set(received):
            done.set()

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    client.on_message = on_message
    client.on_connect = lambda client, *_: client.subscribe([(topic, 1) for topic in topics])
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        done.wait(timeout_s)
    finally:
        client.disconnect()
        client.loop_stop()
    return received
