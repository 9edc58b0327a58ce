"""What a real fleet trips over, each with real sshd and Docker engines: Docker's own error, a busy port, two
entries on one machine, termination signals, host keys (jump hosts', every known_hosts file), a noisy login shell, the server log of a failed
start, a gated model without a token, and progress without a terminal."""

from __future__ import annotations

import csv
import signal
import subprocess
import time
from pathlib import Path

import paramiko
import pytest
import yaml
from fabric import Connection
from rich.console import Console

from collector.fleet.display import status_table
from collector.fleet.hostrun import HostStatus
from collector.fleet.inventory import Host
from collector.fleet.ssh import SshOptions, connection, known_hosts_files
from tests.simfleet import STANDIN_IMAGE, collect, collect_command, inventory

ROOT = Path(__file__).resolve().parents[2]


def read_csv(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_docker_error_shows_its_cause_not_the_help_hint(fleet, tmp_path):
    (host,) = fleet(1)  # the test engines have no NVIDIA runtime, as a host without the container toolkit
    out = collect(fleet, inventory(tmp_path, [host], **{host.alias: {"gpu_access": "nvidia"}}), tmp_path / "data")
    assert out.returncode == 1
    assert 'could not select device driver "" with capabilities: [[gpu]]' in out.stderr
    assert "--help" not in out.stderr
    assert fleet.gpubench_containers() == {}


def test_a_busy_port_is_refused_not_taken_for_the_new_server(fleet, tmp_path):
    (host,) = fleet(1)
    host.set_standin(STARTUP_SECONDS=0)
    # someone's own TGI already serving on the port the inventory gives (8080), not started by gpubench
    host.docker("run", "-d", "--name", "theirs", "--network", "host", "-v", f"{host.cache_dir}:/data", STANDIN_IMAGE,
                "--model-id", "their/model", "--port", "8080")
    try:
        deadline = time.monotonic() + 30
        while "Connected" not in host.docker("logs", "theirs").stdout + host.docker("logs", "theirs").stderr:
            assert time.monotonic() < deadline, "their server did not start"
            time.sleep(0.2)
        out = collect(fleet, inventory(tmp_path, [host]), tmp_path / "data")
        assert out.returncode == 1
        assert "port 8080 on the host is already in use" in out.stderr
        assert not (tmp_path / "data" / "runs.csv").exists()
        assert "theirs" in host.docker("ps", "--format", "{{.Names}}").stdout  # theirs left alone
    finally:
        host.docker("rm", "-f", "theirs", check=False)
    assert fleet.gpubench_containers() == {}


def test_entries_on_one_machine_run_one_after_the_other(fleet, tmp_path):
    (host,) = fleet(1)
    host.set_standin(STARTUP_SECONDS=1)
    path = inventory(tmp_path, [host])
    doc = yaml.safe_load(path.read_text())
    twin = dict(doc["hosts"][0], name="twin")  # same ssh target, another name: the same GPUs and port
    doc["hosts"].append(twin)
    path.write_text(yaml.safe_dump(doc))
    out = collect(fleet, path, tmp_path / "data")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert any(f"twin: queued (waiting: same machine as {host.alias}" in line for line in lines)
    first_done = next(i for i, line in enumerate(lines) if f" {host.alias}: done" in line)
    twin_starts = next(i for i, line in enumerate(lines) if " twin: connecting" in line)
    assert first_done < twin_starts
    assert sorted(r["host"] for r in read_csv(tmp_path / "data" / "runs.csv")) == sorted([host.alias, "twin"])


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_termination_signals_remove_containers_like_ctrl_c(fleet, tmp_path, sig):
    (host,) = fleet(1)
    host.set_standin(STARTUP_SECONDS=1, RUN_SECONDS=0.5)
    argv = collect_command(fleet, inventory(tmp_path, [host], runs=20), tmp_path / "data")
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not fleet.gpubench_containers():
        assert time.monotonic() < deadline and proc.poll() is None, "no container started"
        time.sleep(0.2)
    time.sleep(1)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130
    assert f"{sig.name}: stopping every host and removing their containers" in out + err
    assert fleet.gpubench_containers() == {}


def test_every_known_hosts_file_of_the_ssh_config_counts(fleet, tmp_path):
    (host,) = fleet(1)
    key_line = next(line for line in fleet.known_hosts.read_text().splitlines()
                    if line.startswith(f"[{host.address}]:{host.port} "))
    empty, second = tmp_path / "known_first", tmp_path / "known_second"
    empty.write_text("")
    second.write_text(key_line + "\n")  # the key is only in the second file ssh_config names
    config = tmp_path / "ssh_config"
    config.write_text(fleet.ssh_config.read_text().replace(f"UserKnownHostsFile {fleet.known_hosts}",
                                                           f"UserKnownHostsFile {empty} {second}"))
    argv = collect_command(fleet, inventory(tmp_path, [host]), tmp_path / "data")
    i = argv.index("--known-hosts")
    del argv[i:i + 2]  # the ssh_config's UserKnownHostsFile decides
    argv[argv.index("--ssh-config") + 1] = str(config)
    out = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr


def test_jump_hosts_get_the_same_host_key_check_and_key_file(tmp_path):
    known = tmp_path / "known_hosts"
    known.write_text("")
    config = tmp_path / "ssh_config"
    config.write_text(f"Host target\n    HostName 192.0.2.10\n    ProxyJump bastion\n    UserKnownHostsFile {known}\n"
                      f"Host bastion\n    HostName 192.0.2.1\n    UserKnownHostsFile {known}\n")
    options = SshOptions(ssh_config=config)
    by_config = connection(Host(name="t", ssh="target", gpu="H100", gpus=1, model="m"), options)
    by_inventory = connection(Host(name="t", ssh="root@192.0.2.10", gpu="H100", gpus=1, model="m",
                                   jump="ops@192.0.2.1", identity_file=str(tmp_path / "id_ed25519")), options)
    for conn in (by_config, by_inventory):
        gateway = conn.gateway
        assert isinstance(gateway, Connection) and gateway.host == "192.0.2.1"
        # Fabric's own default would add an unknown jump-host key without a word (AutoAddPolicy)
        assert isinstance(gateway.client._policy, paramiko.RejectPolicy)
    assert str(tmp_path / "id_ed25519") in by_inventory.gateway.connect_kwargs["key_filename"]
    assert known_hosts_files(by_config, options)[:1] == [known]


def test_a_login_shell_that_prints_a_banner_does_not_break_anything(fleet, tmp_path):
    (host,) = fleet(1)
    # every command of the SSH session prints a banner first, as a chatty shell profile does
    for name, real in (("docker", "/usr/bin/docker"), ("nvidia-smi", str(host.bin_dir / "nvidia-smi.real"))):
        wrapper = host.bin_dir / name
        if name == "nvidia-smi":
            (host.bin_dir / "nvidia-smi").rename(real)
        wrapper.write_text(f'#!/bin/sh\necho "*** Welcome to {host.alias}: authorized use only ***"\nexec {real} "$@"\n')
        wrapper.chmod(0o755)
    try:
        out = collect(fleet, inventory(tmp_path, [host]), tmp_path / "data")
        assert out.returncode == 0, out.stderr
        (run,) = read_csv(tmp_path / "data" / "runs.csv")
        assert run["gpu_name_reported"] == "NVIDIA H100 80GB HBM3"
    finally:
        (host.bin_dir / "docker").unlink()
        (host.bin_dir / "nvidia-smi.real").replace(host.bin_dir / "nvidia-smi")


def test_a_failed_start_keeps_the_server_log(fleet, tmp_path):
    (host,) = fleet(1)
    host.set_standin(STARTUP_SECONDS=1, FAIL_AT_START="oom")
    out = collect(fleet, inventory(tmp_path, [host]), tmp_path / "data")
    assert out.returncode == 1 and "CUDA out of memory" in out.stderr
    (log,) = (tmp_path / "logs").glob(f"{host.alias}-*/server.log")
    assert "torch.OutOfMemoryError: CUDA out of memory" in log.read_text()
    assert "server log kept in" in out.stdout


def test_a_gated_model_without_a_token_is_said_first(fleet, tmp_path):
    (host,) = fleet(1)
    host.set_standin(STARTUP_SECONDS=1, REQUIRE_TOKEN="1")
    out = collect(fleet, inventory(tmp_path, [host]), tmp_path / "data", token=None)
    assert out.returncode == 1
    note = "HF_TOKEN is not set and meta-llama/Meta-Llama-3.1-70B-Instruct is not in the host's cache"
    assert note in out.stdout
    assert out.stdout.index("preflight") < out.stdout.index("starting")  # the warning came before the start
    assert "401" in out.stderr or "GatedRepo" in out.stderr


def test_without_a_terminal_progress_is_plain_lines_and_the_summary_prints_once(fleet, tmp_path):
    (host,) = fleet(1)
    out = collect(fleet, inventory(tmp_path, [host]), tmp_path / "data")
    assert out.returncode == 0, out.stderr
    phases = [line.split(": ", 1)[1].split(" ")[0] for line in out.stdout.splitlines()
              if f" {host.alias}: " in line and line[:2].isdigit()]
    assert phases[:5] == ["queued", "connecting", "preflight", "image", "starting"] and phases[-1] == "done"
    assert len(phases) == len(set(phases))  # each phase once
    assert out.stdout.count("gpubench collect: summary") == 1


def test_at_80_columns_the_table_keeps_host_and_phase():
    statuses = [HostStatus("h100-sxm-frankfurt", phase="benchmark", message="batch 8/32 " + "x" * 200),
                HostStatus("l40s", phase="loading", message="Loading weights took 31.2 GB " + "y" * 200)]
    console = Console(width=80, record=True, color_system=None)
    console.print(status_table(statuses))
    text = console.export_text()
    assert "h100-sxm-frankfurt" in text and "benchmark" in text and "loading" in text
    assert all(len(line) <= 80 for line in text.splitlines())
