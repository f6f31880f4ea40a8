"""A finished night recorded in the history (--history) and sent to Home Assistant over MQTT (--mqtt):
against a real broker (mosquitto) the sensors and the night's figures are the report's, and a broker
or a history that fails costs the night nothing but one warning line."""

from __future__ import annotations

import getpass
import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from conftest import free_port, mosquitto, retained_messages, run_main

from sensing import __version__
from sensing.history.store import History
from sensing.mqtt import publisher
from sensing.mqtt.discovery import FIGURES, figures_for


@pytest.fixture(scope="module")
def short_night(tmp_path_factory) -> dict[str, Path]:
    """A 2-minute generated night: audio (WAV) and a radar recording of the same length (NPZ)."""
    from sensing.synthetic.night import make_night

    folder = tmp_path_factory.mktemp("short-night")
    wav, _ = make_night(folder / "night.wav", duration_s=120, seed=1)
    simulated = run_main(["simulate", "radar", "--out", str(folder), "--hours", "0.034", "--seed", "1"])
    assert simulated.returncode == 0, simulated.stderr
    return {"wav": wav, "npz": folder / "night_000.npz"}


COMMANDS = {
    "detect": lambda night, out: ["detect", str(night["wav"]), "--out", str(out)],
    "sleep": lambda night, out: ["sleep", str(night["npz"]), "--out", str(out)],
    "night": lambda night, out: [
        "night", "--audio", str(night["wav"]), "--radar", str(night["npz"]), "--out", str(out)
    ],
}  # fmt: skip


@pytest.mark.parametrize("command", list(COMMANDS))
def test_history_option_records_the_finished_night(command, short_night, tmp_path):
    database = tmp_path / "history.sqlite"
    out = tmp_path / "out"
    result = run_main([*COMMANDS[command](short_night, out), "--history", str(database)])
    assert result.returncode == 0, result.stderr
    assert "warning" not in result.stderr
    with History(database) as history:
        (night,) = history.nights()
    assert night.kind == command and night.folder == str(out.resolve())
    report = json.loads((out / "report.json").read_text())
    if command == "detect":
        assert night.coughs == report["cough_count"]
    elif command == "sleep":
        assert night.total_sleep_min == report["summary"]["total_sleep_min"]
    else:
        assert night.coughs == report["combined"]["coughs"]


def test_a_history_that_cannot_record_is_a_warning_and_the_night_stands(short_night, tmp_path):
    not_a_database = tmp_path / "notes.sqlite"
    not_a_database.write_text("my notes\n" * 100)
    out = tmp_path / "out"
    plain = run_main(COMMANDS["detect"](short_night, tmp_path / "plain"))
    result = run_main([*COMMANDS["detect"](short_night, out), "--history", str(not_a_database)])
    assert result.returncode == plain.returncode == 0, result.stderr
    (warning,) = [line for line in result.stderr.splitlines() if "warning" in line]
    assert "not recorded in the history" in warning and "not a night history" in warning
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in (tmp_path / "plain").iterdir())
    assert not_a_database.read_text() == "my notes\n" * 100


@pytest.mark.parametrize("command", ["detect", "night"])
def test_home_assistant_sees_the_sensors_and_the_reports_figures(command, short_night, broker, tmp_path):
    out = tmp_path / "out"
    args = [*COMMANDS[command](short_night, out), "--mqtt", f"127.0.0.1:{broker}", "--mqtt-node-id", "bed1"]
    result = run_main(args)
    assert result.returncode == 0, result.stderr
    assert "warning" not in result.stderr, result.stderr

    figures = figures_for(command)
    config_topics = [f"homeassistant/sensor/bed1/{figure.key}/config" for figure in figures]
    messages = retained_messages(broker, [*config_topics, "sensing/bed1/night"])
    assert set(messages) == {*config_topics, "sensing/bed1/night"}
    assert all(message["retain"] for message in messages.values())
    for figure, topic in zip(figures, config_topics):
        config = messages[topic]["payload"]
        assert config["name"] == figure.name and config["unique_id"] == f"bed1_{figure.key}"
        assert config["state_topic"] == "sensing/bed1/night"
        assert config["value_template"] == f"{{{{ value_json.{figure.key} }}}}"
        assert config["unit_of_measurement"] == figure.unit and config["state_class"] == "measurement"
        assert config["device"] == {
            "identifiers": ["bed1"],
            "name": "bed1",
            "manufacturer": "sensing",
            "model": f"sensing {command}",
            "sw_version": __version__,
        }

    state = messages["sensing/bed1/night"]["payload"]
    report = json.loads((out / "report.json").read_text())
    assert state["kind"] == command and state["start_time"] == report.get("start_time")
    if command == "detect":
        expected = {
            "coughs": report["cough_count"],
            "snore_minutes": report["snore_minutes"],
            "snore_episodes": report["snore_episodes"],
            "duration_min": report["duration_s"] / 60,
        }
    else:
        combined, sleep = report["combined"], report["sleep"]
        expected = {
            "coughs": combined["coughs"],
            "coughs_per_hour_asleep": combined["coughs_per_hour_asleep"],
            "snore_minutes": combined["snore_minutes_asleep"],
            "snore_episodes": combined["snore_episodes_asleep"],
            "time_in_bed_min": sleep["time_in_bed_min"],
            "total_sleep_min": sleep["total_sleep_min"],
            "sleep_efficiency": sleep["sleep_efficiency"] and sleep["sleep_efficiency"] * 100,
            "duration_min": report["audio_overlap"]["audio_s"] / 60,
        }
    assert set(expected) == {figure.key for figure in figures}
    for key, value in expected.items():
        assert state[key] == (None if value is None else pytest.approx(value, abs=0.05)), key


def test_a_broker_that_is_down_costs_the_night_one_line(short_night, tmp_path, monkeypatch):
    monkeypatch.setattr(publisher, "DELIVERY_WAIT_S", 1.0)
    port = free_port()  # nothing listens there
    out = tmp_path / "out"
    started = time.monotonic()
    result = run_main([*COMMANDS["night"](short_night, out), "--mqtt", f"127.0.0.1:{port}"])
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    assert {"report.json", "events.csv", "sleep", "audio"} <= {p.name for p in out.iterdir()}
    json.loads((out / "report.json").read_text())
    (warning,) = [line for line in result.stderr.splitlines() if "MQTT" in line]
    assert warning.startswith(f"warning: MQTT broker 127.0.0.1:{port}")
    assert f"{len(figures_for('night'))} discovery configs homeassistant/sensor/sensing/" in warning
    assert "sensing/sensing/night" in warning and "not delivered within 1 s" in warning
    assert "Traceback" not in result.stderr
    assert elapsed < 60


def test_mqtt_options_need_a_broker_and_a_well_formed_one(short_night, tmp_path):
    from conftest import assert_one_line_error

    base = COMMANDS["detect"](short_night, tmp_path / "out")
    assert "--mqtt-username is for --mqtt" in assert_one_line_error(
        run_main([*base, "--mqtt-username", "u"]), 2
    )
    assert "expected HOST or HOST:PORT" in assert_one_line_error(run_main([*base, "--mqtt", "host:port"]), 2)
    assert "letters, digits" in assert_one_line_error(
        run_main([*base, "--mqtt", "h", "--mqtt-node-id", "a/b"]), 2
    )
    assert not (tmp_path / "out").exists()


def test_every_figure_names_a_night_record_field():
    from dataclasses import fields

    from sensing.history.nights import NightRecord

    names = {field.name for field in fields(NightRecord)}
    assert {figure.key for figure in FIGURES} <= names


def test_without_paho_mqtt_is_refused_before_the_night_naming_the_extra(short_night, tmp_path):
    from conftest import assert_one_line_error, run_cli

    out = tmp_path / "out"
    result = run_cli([*COMMANDS["detect"](short_night, out), "--mqtt", "127.0.0.1"], block=("paho",))
    assert "pip install 'sensing[mqtt]'" in assert_one_line_error(result, 2)
    assert not (out / "report.json").exists()


def test_the_password_comes_from_the_environment_only(short_night, tmp_path, monkeypatch):
    if shutil.which("mosquitto_passwd") is None:
        pytest.skip("mosquitto_passwd is not installed (apt-get install mosquitto)")
    passwords = tmp_path / "passwords"
    made = subprocess.run(
        ["mosquitto_passwd", "-c", "-b", str(passwords), "night", "s3cret"], capture_output=True
    )
    assert made.returncode == 0, made.stderr
    passwords.chmod(0o644)
    config = tmp_path / "mosquitto.conf"
    # run as this user: mosquitto started by root would switch to a user that cannot read tmp_path
    config.write_text(
        f"listener PORT 127.0.0.1\nallow_anonymous false\npassword_file {passwords}\n"
        f"user {getpass.getuser()}\n"
    )
    monkeypatch.setattr(publisher, "DELIVERY_WAIT_S", 1.0)
    with mosquitto(config) as port:
        args = [*COMMANDS["detect"](short_night, tmp_path / "out"), "--mqtt", f"127.0.0.1:{port}"]
        monkeypatch.delenv("SENSING_MQTT_PASSWORD", raising=False)
        refused = run_main([*args, "--mqtt-username", "night"])
        assert refused.returncode == 0, refused.stderr
        (warning,) = [line for line in refused.stderr.splitlines() if "MQTT" in line]
        assert "refused the connection" in warning and "not delivered" in warning

        monkeypatch.setenv("SENSING_MQTT_PASSWORD", "s3cret")
        accepted = run_main([*args, "--mqtt-username", "night"])
        assert accepted.returncode == 0 and "MQTT" not in accepted.stderr, accepted.stderr
    assert run_main([*args, "--mqtt-password", "s3cret"]).returncode == 2  # no such option
