"""The bedside rig as a user runs it: ``sensing rig setup`` calibrates once with the sleeper alone,
``rig run`` writes dated nights from recordings standing in for the microphone and the radar,
survives SIGTERM, a kill and a lost radar, keeps the newest nights, records and publishes them
(a real mosquitto), and ``rig install`` writes a unit systemd accepts."""

from __future__ import annotations

import csv
import datetime
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import REPO_ROOT, assert_one_line_error, mosquitto, run_cli, run_main

from sensing.history.store import History
from sensing.radar.simulate import NightTruth, truth_path
from sensing.rig.nights import delete_old_nights, new_night_folder, night_folders
from sensing.rig.run import UpAndAbout
from sensing.rig.window import current_or_next

NIGHT_SEED = 3
"""A simulated night whose partner lies nearer than the sleeper, and whom nightly calibration takes."""


@pytest.fixture(scope="module")
def bedroom(tmp_path_factory) -> dict[str, Path]:
    """30 minutes of generated audio, the same length of radar with a partner nearer than the
    sleeper, and 6 minutes of the same room with the sleeper alone (the set-up recording)."""
    from sensing.synthetic.night import make_night

    folder = tmp_path_factory.mktemp("bedroom")
    wav, _ = make_night(folder / "night.wav", duration_s=1800, seed=1)
    for name, hours, partner in (("night", 0.5, "yes"), ("setup", 0.1, "no")):
        made = run_main(
            ["simulate", "radar", "--out", str(folder / name), "--hours", str(hours), "--seed", str(NIGHT_SEED),
             "--partner", partner, "--partner-side", "near"]
        )  # fmt: skip
        assert made.returncode == 0, made.stderr
    return {
        "wav": wav,
        "radar": folder / "night" / "night_000.npz",
        "setup": folder / "setup" / "night_000.npz",
    }


def set_up(bedroom: dict[str, Path], folder: Path, *extra: str) -> Path:
    config = folder / "rig.toml"
    result = run_main(
        ["rig", "setup", "--config", str(config), "--output", str(folder / "nights"),
         "--audio-file", str(bedroom["wav"]), "--radar-replay", str(bedroom["radar"]),
         "--calibration-recording", str(bedroom["setup"]), "--calibrate-s", "360",
         "--history", str(folder / "history.sqlite"), *extra]
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return config


def rig(*args: str, config: Path) -> subprocess.Popen:
    """``sensing rig ARGS --config CONFIG`` as its own process (signals reach it as under systemd)."""
    return subprocess.Popen(
        [sys.executable, "-m", "sensing", "rig", *args, "--config", str(config)],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def epoch_labels(folder: Path) -> list[str]:
    """The labels of a rig night's ``sleep/epochs.csv`` (or of a ``sensing sleep`` folder's ``epochs.csv``)."""
    path = folder / "sleep" / "epochs.csv"
    with (path if path.exists() else folder / "epochs.csv").open() as file:
        return [row["label"] for row in csv.DictReader(file)]


def test_a_stored_calibration_keeps_the_sleeper_when_a_partner_lies_nearer(bedroom, tmp_path):
    config = set_up(bedroom, tmp_path)
    truth = NightTruth.read(truth_path(bedroom["radar"]))
    assert truth.partner_range_m < truth.sleeper_range_m - 0.25
    stored = float(config.read_text().split("sleeper_range_m = ")[1].split()[0])
    assert abs(stored - truth.sleeper_range_m) < 0.1

    night_of = (datetime.datetime.now() - datetime.timedelta(hours=12)).date().isoformat()
    result = run_main(["rig", "run", "--config", str(config), "--now", "--once"])
    assert result.returncode == 0, result.stderr
    folder = tmp_path / "nights" / night_of
    report = json.loads((folder / "report.json").read_text())
    assert report["radar"]["sleeper_range_m"] == pytest.approx(stored, abs=0.01)
    assert report["audio_overlap"]["audio_s"] == pytest.approx(1800, abs=1)
    for name in ("events.csv", "night.png", "sleep/epochs.csv", "audio/events.csv"):
        assert (folder / name).is_file(), name

    # calibrating every night instead takes the nearer partner, and scores the wrong person
    nightly = run_main(["sleep", str(bedroom["radar"]), "--out", str(tmp_path / "nightly")])
    assert nightly.returncode == 0, nightly.stderr
    nightly_range = json.loads((tmp_path / "nightly" / "report.json").read_text())["sleeper_range_m"]
    assert abs(nightly_range - truth.partner_range_m) < 0.1
    right = [
        sum(a == b for a, b in zip(epoch_labels(path), truth.epoch_labels))
        for path in (folder, tmp_path / "nightly")
    ]
    assert right[0] >= right[1]

    with History(tmp_path / "history.sqlite") as history:
        assert [Path(night.folder) for night in history.nights()] == [folder.resolve()]
    status = run_main(["rig", "status", "--config", str(config)])
    assert status.returncode == 0
    assert f"last night written: {folder}" in status.stdout
    assert f"1 night kept: {night_of}\n" in status.stdout


def test_sigterm_in_the_middle_leaves_a_valid_partial_night_and_a_kill_a_readable_one(bedroom, tmp_path):
    config = set_up(bedroom, tmp_path)
    config.write_text(config.read_text().replace("replay_speed = 0.0", "replay_speed = 60.0"))
    status_file = tmp_path / "nights" / "rig-status.json"

    process = rig("run", "--now", config=config)  # 30 min at 60x: 30 s unless stopped
    deadline = time.monotonic() + 60
    while not (status_file.exists() and json.loads(status_file.read_text())["state"] == "recording"):
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.2)
    time.sleep(6)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    (folder,) = night_folders(tmp_path / "nights")
    report = json.loads((folder / "report.json").read_text())
    assert 60 < report["audio_overlap"]["audio_s"] < 1500
    assert report["audio_stopped_by"] == "stopped"
    assert len(epoch_labels(folder)) == report["audio_overlap"]["radar_s"] // 30
    assert json.loads(status_file.read_text())["state"] == "stopped"

    # kill -9 (a power cut): the status still says recording, rig status tells, a new start writes beside it
    process = rig("run", "--now", config=config)
    deadline = time.monotonic() + 60
    while len(night_folders(tmp_path / "nights")) < 2:
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.2)
    time.sleep(4)
    process.kill()
    process.communicate()
    killed = night_folders(tmp_path / "nights")[-1]
    assert killed.name == f"{folder.name}-2"
    with (killed / "audio" / "events.csv").open() as file:
        rows = list(csv.reader(file))
    assert rows[0] == ["label", "start_s", "end_s", "score"] and all(len(row) == 4 for row in rows)
    status = run_main(["rig", "status", "--config", str(config)])
    assert "not running: it was recording" in status.stdout and str(killed) in status.stdout


RADAR_DRIVER = '''
"""A radar that replays a recording and is lost after 100 s (a USB radar unplugged)."""
from sensing.night.run import RadarSource, replay_radar


def open_source(settings):
    replay = replay_radar(settings.replay)

    def chunks():
        for index, frames in enumerate(replay.chunks):
            if index == 100:
                raise OSError("radar unplugged")
            yield frames

    return RadarSource(config=replay.config, n_bins=replay.n_bins, chunks=chunks(), name="usb radar")
'''


def test_a_radar_driver_that_is_lost_mid_night(bedroom, tmp_path):
    config = set_up(bedroom, tmp_path)
    (tmp_path / "lossy_radar.py").write_text(
        RADAR_DRIVER.replace("settings.replay", repr(str(bedroom["radar"])))
    )
    text = config.read_text()
    text = text.replace(f'replay = "{bedroom["radar"]}"', 'replay = ""')
    config.write_text(text.replace('driver = ""', 'driver = "lossy_radar:open_source"'))
    result = run_cli(
        ["rig", "run", "--config", str(config), "--now", "--once"], env={"PYTHONPATH": str(tmp_path)}
    )
    assert result.returncode == 1, result.stderr
    assert "radar lost after 100 s: radar unplugged" in result.stderr
    (folder,) = night_folders(tmp_path / "nights")
    report = json.loads((folder / "report.json").read_text())
    assert report["radar_lost"] == "radar lost after 100 s: radar unplugged"
    assert report["radar_lost"] in report["warnings"]
    assert report["audio_overlap"]["radar_s"] == 90  # three whole epochs before the radar went
    status = run_main(["rig", "status", "--config", str(config)])
    assert status.returncode == 1 and "failed" in status.stdout


def test_only_the_newest_nights_are_kept(tmp_path):
    output = tmp_path / "nights"
    evening = datetime.datetime(2026, 12, 1, 23, 0)
    made = [new_night_folder(output, evening + datetime.timedelta(days=day)) for day in (0, 1, 1, 2)]
    assert [path.name for path in made] == ["2026-12-01", "2026-12-02", "2026-12-02-2", "2026-12-03"]
    (output / "notes").mkdir()  # not a night: never deleted
    assert delete_old_nights(output, 2) == made[:2]
    assert sorted(path.name for path in output.iterdir()) == ["2026-12-02-2", "2026-12-03", "notes"]
    assert delete_old_nights(output, 0) == []


@pytest.mark.parametrize(
    ("now", "start", "end"),
    [
        ("2026-12-06 21:00", "2026-12-06 22:00", "2026-12-07 07:30"),  # before bedtime: tonight's
        ("2026-12-06 23:10", "2026-12-06 22:00", "2026-12-07 07:30"),  # in the window
        ("2026-12-07 03:00", "2026-12-06 22:00", "2026-12-07 07:30"),  # after midnight: still last night's
        ("2026-12-07 07:30", "2026-12-07 22:00", "2026-12-08 07:30"),  # at wake time: the next one
    ],
)
def test_the_bedtime_window_crosses_midnight(now, start, end):
    window = current_or_next(datetime.datetime.fromisoformat(now), datetime.time(22, 0), datetime.time(7, 30))
    assert (window.start, window.end) == tuple(map(datetime.datetime.fromisoformat, (start, end)))


def test_the_night_ends_once_the_sleeper_is_up_after_sleeping():
    up = UpAndAbout(after_min=1.5)
    for label in ["absent"] * 10 + ["awake", "asleep", "asleep", "absent", "absent"]:
        up.epoch(label)
        assert not up.up  # absent before sleeping is not being up
    up.epoch("absent")
    assert up.up
    never = UpAndAbout(after_min=0)
    for label in ["asleep"] + ["absent"] * 100:
        never.epoch(label)
    assert not never.up


def test_home_assistant_follows_the_night_live(bedroom, tmp_path):
    import paho.mqtt.client as mqtt

    with mosquitto() as port:
        config = set_up(bedroom, tmp_path, "--mqtt", f"127.0.0.1:{port}", "--mqtt-node-id", "bed2")
        received: list[tuple[str, str, bool]] = []
        subscribed = threading.Event()
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        client.on_message = lambda c, u, message: received.append(
            (message.topic, message.payload.decode(), message.retain)
        )
        client.on_subscribe = lambda *_: subscribed.set()
        client.on_connect = lambda c, *_: c.subscribe(
            [("sensing/bed2/#", 1), ("homeassistant/+/bed2/+/config", 1)]
        )
        client.connect("127.0.0.1", port)
        client.loop_start()
        try:
            assert subscribed.wait(10)
            result = run_main(["rig", "run", "--config", str(config), "--now", "--once"])
            assert result.returncode == 0, result.stderr
            time.sleep(1)
        finally:
            client.disconnect()
            client.loop_stop()

    (folder,) = night_folders(tmp_path / "nights")
    epochs = epoch_labels(folder)
    topics = [topic for topic, _, _ in received]
    configs = {topic: json.loads(payload) for topic, payload, _ in received if topic.endswith("/config")}
    bed = configs["homeassistant/sensor/bed2/bed_state/config"]
    assert bed["state_topic"] == "sensing/bed2/state" and bed["options"] == ["absent", "awake", "asleep"]
    assert configs["homeassistant/event/bed2/sound/config"]["event_types"] == ["cough", "snore"]
    states = [payload for topic, payload, _ in received if topic == "sensing/bed2/state"]
    assert states and set(states) <= {"absent", "awake", "asleep"}
    assert "asleep" in states and "asleep" in epochs
    events = [json.loads(payload) for topic, payload, _ in received if topic == "sensing/bed2/event"]
    report = json.loads((folder / "report.json").read_text())
    assert events and {event["event_type"] for event in events} <= {"cough", "snore"}
    assert sum(event["event_type"] == "cough" for event in events) <= report["coughs_heard"]
    availability = [payload for topic, payload, _ in received if topic == "sensing/bed2/availability"]
    assert availability[0] == "online" and availability[-1] == "offline"
    night = json.loads(next(payload for topic, payload, _ in received if topic == "sensing/bed2/night"))
    assert night["coughs"] == report["combined"]["coughs"]
    assert topics.index("sensing/bed2/night") > topics.index("sensing/bed2/state")


def test_install_writes_a_unit_systemd_accepts(bedroom, tmp_path):
    config = set_up(bedroom, tmp_path)
    units = []
    for extra, wanted in (([], "WantedBy=default.target"), (["--system-user", "root"], "User=root")):
        unit = tmp_path / "units" / ("system" if extra else "user") / "sensing-rig.service"
        result = run_main(["rig", "install", "--config", str(config), "--unit", str(unit), *extra])
        assert result.returncode == 0, result.stderr
        text = unit.read_text()
        assert wanted in text and "Restart=on-failure" in text
        assert f"-m sensing rig run --config {config.resolve()}" in text
        assert "RestartPreventExitStatus=2" in text  # a broken configuration is not retried forever
        units.append(unit)
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed (systemd is absent here)")
    for unit in units:
        verified = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True)
        assert verified.returncode == 0 and str(unit) not in verified.stderr, verified.stderr


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('bedtime = "22:00"', 'bedtime = "late"'), "[night] bedtime: expected a clock time"),
        (("keep_nights = 30", "keep_nights = -1"), "[night] keep_nights: expected a whole number >= 0"),
        (('gate = "in-bed"', 'gate = "awake"'), "[night] gate: expected one of in-bed, asleep"),
        (("[models]", "[model]"), "[model]: unknown table"),
        (("tls = false", "tls = false\nport = 1883"), "[mqtt] port: unknown setting"),
        (("sleeper_range_m = ", 'sleeper_range_m = "near" #'), "[radar] sleeper_range_m: expected a number"),
        (("[night]", "[night"), "not a valid TOML file"),
        (
            ('node_id = "sensing"', 'node_id = "bed room"'),
            "[mqtt] node_id: MQTT node id 'bed room': expected",
        ),
        (('broker = ""', 'broker = "host:port"'), "[mqtt] broker: MQTT broker 'host:port': expected"),
    ],
)
def test_a_bad_configuration_is_one_line_naming_the_setting(bedroom, tmp_path, change, message):
    config = set_up(bedroom, tmp_path)
    config.write_text(config.read_text().replace(*change))
    for action in ("run", "status"):
        line = assert_one_line_error(run_main(["rig", action, "--config", str(config)]), 2)
        assert message in line and str(config) in line


def test_a_rig_without_a_configuration_or_a_calibration_says_what_to_do(bedroom, tmp_path):
    default = run_cli(["rig", "status"], env={"XDG_CONFIG_HOME": str(tmp_path / "settings")})
    line = assert_one_line_error(default, 2)
    assert f"{tmp_path / 'settings' / 'sensing' / 'rig.toml'}: no rig configuration here" in line
    assert "sensing rig setup writes one" in line
    config = tmp_path / "rig.toml"
    made = run_main(
        ["rig", "setup", "--config", str(config), "--output", str(tmp_path / "nights"),
         "--audio-file", str(bedroom["wav"]), "--radar-replay", str(bedroom["radar"]), "--sleeper-range-m", "0.9",
         "--history", str(tmp_path / "history.sqlite")]
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert "sleeper_range_m = 0.9\n" in config.read_text()
    config.write_text(config.read_text().replace("sleeper_range_m = 0.9", 'sleeper_range_m = ""'))
    line = assert_one_line_error(run_main(["rig", "run", "--config", str(config), "--now", "--once"]), 2)
    assert "run sensing rig setup to calibrate the radar" in line
    assert not night_folders(tmp_path / "nights")


def test_setup_refuses_a_recording_with_nobody_in_bed(bedroom, tmp_path):
    line = assert_one_line_error(
        run_main(["rig", "setup", "--config", str(tmp_path / "rig.toml"), "--output", str(tmp_path / "n"),
                  "--radar-replay", str(bedroom["setup"]), "--calibrate-s", "40",  # the bed is empty for 2 min
                  "--audio-file", str(bedroom["wav"]), "--history", str(tmp_path / "history.sqlite")]),
        2,
    )  # fmt: skip
    assert "no sleeper found" in line and not (tmp_path / "rig.toml").exists()


def test_the_rig_waits_for_bedtime_and_stops_on_sigterm_while_waiting(bedroom, tmp_path):
    config = set_up(bedroom, tmp_path)
    soon = datetime.datetime.now() + datetime.timedelta(hours=2)
    text = config.read_text().replace('bedtime = "22:00"', f'bedtime = "{soon:%H:%M}"')
    config.write_text(text.replace('wake = "08:00"', f'wake = "{soon + datetime.timedelta(hours=1):%H:%M}"'))
    process = rig("run", config=config)
    status_file = tmp_path / "nights" / "rig-status.json"
    deadline = time.monotonic() + 30
    while not status_file.exists():
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.2)
    status = run_main(["rig", "status", "--config", str(config)])
    assert f"waiting for bedtime at {soon:%Y-%m-%d}" in status.stdout or f"{soon:%H:%M}" in status.stdout
    os.kill(process.pid, signal.SIGTERM)
    out, _ = process.communicate(timeout=30)
    assert process.returncode == 0 and f"waiting for bedtime at {soon:%Y-%m-%d %H:%M}" in out
    assert json.loads(status_file.read_text())["state"] == "stopped"
    assert not night_folders(tmp_path / "nights")


def test_setup_checks_what_it_names_before_calibrating_and_keeps_the_calibration_after(bedroom, tmp_path):
    base = ["rig", "setup", "--config", str(tmp_path / "rig.toml"), "--output", str(tmp_path / "nights"),
            "--history", str(tmp_path / "history.sqlite"), "--radar-replay", str(bedroom["radar"]),
            "--audio-file", str(bedroom["wav"])]  # fmt: skip
    for extra, message in (
        (["--audio-file", str(tmp_path / "none.wav")], "[audio] file: "),
        (["--audio-model", str(tmp_path / "none.tflite")], "[models] audio: "),
        (["--mqtt", "127.0.0.1", "--mqtt-password-file", str(tmp_path / "none")], "[mqtt] password_file: "),
        (["--sleeper-range-m", "50"], "[radar] sleeper_range_m: 50 m lies outside the radar's"),
    ):
        line = assert_one_line_error(run_main([*base, *extra]), 2)
        assert message in line, line
        assert not (tmp_path / "rig.toml").exists() and not (tmp_path / "nights" / "calibration.npz").exists()
    line = assert_one_line_error(run_main([*base, "--calibrate-s", "5"]), 2)
    assert "--calibrate-s" in line and "at least 20" in line

    config = set_up(bedroom, tmp_path)
    stored = config.read_text()
    assert f'replay = "{bedroom["radar"]}"' in stored  # paths are written absolute
    changed = run_main(["rig", "setup", "--config", str(config), "--keep-nights", "5"])
    assert changed.returncode == 0 and "calibrating" not in changed.stdout
    assert config.read_text() == stored.replace("keep_nights = 30", "keep_nights = 5")


def test_a_night_that_cannot_start_leaves_no_folder_and_two_rigs_cannot_share_one(bedroom, tmp_path):
    config = set_up(bedroom, tmp_path)
    config.write_text(
        config.read_text().replace('password_file = ""', f'password_file = "{tmp_path / "gone"}"')
    )
    line = assert_one_line_error(run_main(["rig", "run", "--config", str(config), "--now", "--once"]), 2)
    assert "[mqtt] password_file: cannot read" in line
    assert not night_folders(tmp_path / "nights")
    assert run_main(["rig", "status", "--config", str(config)]).returncode == 1

    config.write_text(
        config.read_text().replace(f'password_file = "{tmp_path / "gone"}"', 'password_file = ""')
    )
    config.write_text(config.read_text().replace("replay_speed = 0.0", "replay_speed = 30.0"))
    first = rig("run", "--now", "--once", config=config)
    try:
        deadline = time.monotonic() + 60
        while not night_folders(tmp_path / "nights"):
            assert first.poll() is None and time.monotonic() < deadline, first.communicate()
            time.sleep(0.2)
        line = assert_one_line_error(run_main(["rig", "run", "--config", str(config), "--now", "--once"]), 2)
        assert "another sensing rig is running into this folder" in line
        assert len(night_folders(tmp_path / "nights")) == 1
    finally:
        first.send_signal(signal.SIGTERM)
        first.communicate(timeout=60)


def test_install_names_the_unit_it_wrote_and_refuses_an_unknown_user(bedroom, tmp_path):
    config = set_up(bedroom, tmp_path)
    unit = tmp_path / "elsewhere" / "bedroom-rig.service"
    result = run_main(["rig", "install", "--config", str(config), "--unit", str(unit)])
    assert result.returncode == 0
    assert f"systemctl --user link {unit}" in result.stdout
    assert "systemctl --user enable --now bedroom-rig.service" in result.stdout
    line = assert_one_line_error(
        run_main(
            ["rig", "install", "--config", str(config), "--unit", str(unit), "--system-user", "no-such-user"]
        ),
        2,
    )
    assert "no such user" in line
    line = assert_one_line_error(
        run_main(["rig", "install", "--config", str(config), "--unit", str(tmp_path / "x.conf")]), 2
    )
    assert "ends in .service" in line


def test_only_real_dates_count_as_nights(tmp_path):
    for name in ("2026-12-01", "2026-12-01-2", "2026-13-45", "2026-12-02-x"):
        (tmp_path / name).mkdir()
    assert [path.name for path in night_folders(tmp_path)] == ["2026-12-01", "2026-12-01-2"]


def test_a_night_started_early_ends_at_bedtime_so_that_tonights_follows(bedroom, tmp_path):
    from sensing.rig.config import read_config
    from sensing.rig.run import run_rig

    config = read_config(set_up(bedroom, tmp_path))
    printed = io.StringIO()
    afternoon = datetime.datetime(2026, 12, 6, 15, 0)
    assert run_rig(config, once=True, now=True, clock=lambda: afternoon, stream=printed) == 0
    assert "night started; it ends by 2026-12-06 22:00" in printed.getvalue()
    assert [path.name for path in night_folders(tmp_path / "nights")] == ["2026-12-06"]


def test_a_driver_that_fails_in_its_own_way_is_a_lost_radar(bedroom, tmp_path):
    config = set_up(bedroom, tmp_path)
    (tmp_path / "odd_radar.py").write_text(
        RADAR_DRIVER.replace("settings.replay", repr(str(bedroom["radar"]))).replace(
            'raise OSError("radar unplugged")', 'raise RuntimeError("usb stack confused")'
        )
    )
    text = config.read_text().replace(f'replay = "{bedroom["radar"]}"', 'replay = ""')
    config.write_text(text.replace('driver = ""', 'driver = "odd_radar:open_source"'))
    result = run_cli(
        ["rig", "run", "--config", str(config), "--now", "--once"], env={"PYTHONPATH": str(tmp_path)}
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert "radar driver odd_radar:open_source: RuntimeError: usb stack confused" in result.stderr
    assert json.loads((tmp_path / "nights" / "rig-status.json").read_text())["state"] == "failed"
