"""The test infrastructure itself: real sshd hosts, real Docker engines, the
stand-in TGI image and nvidia-smi behave as tests/simfleet/standin/README.md says."""
from __future__ import annotations

import json
import re
import socket
import time
import urllib.error
import urllib.request
from pathlib import Path

import paramiko
import pytest

from tests.simfleet import ALTERNATE_SCREEN_OFF, IMAGE_TAGS, STANDIN_IMAGE, PtyProcess

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "tgi"
MODEL = "hf-internal-testing/llama-tokenizer"
OOM = "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate"


# ------------------------------------------------------------------ helpers

def start_tgi(host, name: str, port: int = 8080, *launcher_args: str, env: dict | None = None,
              image: str = STANDIN_IMAGE) -> str:
    """docker run the stand-in as a collector would (host network, cache on /data)."""
    env_args = []
    for key, value in (env or {}).items():
        env_args += ["-e", f"{key}={value}"] if value is not None else ["-e", key]
    host.docker(
        "run", "-d", "--name", name, "--network", "host", "--label", "gpubench=test",
        "--shm-size", "1g", "-v", f"{host.cache_dir}:/data", *env_args,
        image, "--model-id", MODEL, "--port", str(port), *launcher_args,
    )
    return name


def health(host, name: str, port: int = 8080) -> bool:
    result = host.docker("exec", name, "wget", "-qO-", f"http://127.0.0.1:{port}/health", check=False)
    return result.returncode == 0


def wait_ready(host, name: str, port: int = 8080, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not health(host, name, port):
        assert time.monotonic() < deadline, host.docker("logs", name).stdout
        time.sleep(0.1)


def benchmark(host, container: str, *args: str, rows: int = 40, cols: int = 160) -> PtyProcess:
    """text-generation-benchmark on a terminal, as `docker exec -it` from a pty."""
    return PtyProcess(
        ["docker", "-H", host.docker_host, "exec", "-it", container,
         "text-generation-benchmark", "--tokenizer-name", MODEL, *args],
        rows=rows, cols=cols,
    )


def screen_has(text: str):
    return lambda p: text in p.text()


def tables_after_screen(output: bytes) -> list[list[str]]:
    """The tables printed after the program left the alternate screen."""
    tail = output[output.index(ALTERNATE_SCREEN_OFF) + len(ALTERNATE_SCREEN_OFF):]
    text = tail.decode()
    assert text.startswith("\x1b[?25h\r\n"), repr(text[:40])
    text = text[len("\x1b[?25h"):]
    assert "\n" not in text.replace("\r\n", ""), "every line ends in CRLF through a pty"
    blocks = text.replace("\r\n", "\n").split("\n\n\n")
    return [block.strip("\n").split("\n") for block in blocks]


# Independent model of the stand-in's numbers (README.md, "Numbers").
def runs_of(b: int, runs: int, seq: int = 10, dec: int = 8, new_prefill: bool = True) -> dict:
    steps = max(dec - 1, 1)
    out = {"prefill": [], "prefill_tp": [], "token": [], "total": [], "decode_tp": []}
    for r in range(1, runs + 1):
        k1 = (r * 7) % 11 - 5
        k2 = (r * 3) % 7 - 3
        p = (20 + 0.15 * b * seq) * (1 + k1 / 100)
        d = steps * (10 + 0.25 * b) * (1 + k2 / 200)
        out["prefill"].append(p)
        out["prefill_tp"].append(b * seq / (p / 1000) if new_prefill else b / (p / 1000))
        out["total"].append(d)
        out["token"].append(d / steps)
        out["decode_tp"].append(b * steps / (d / 1000))
    return out


def cells(values: list[float] | None, unit: str, percentiles: bool) -> list[str]:
    if not values:
        return [f"NaN {unit}"] * (6 if percentiles else 3)
    total = 0.0
    for v in values:
        total += v
    s = sorted(values)
    picked = [total / len(values), s[0], s[-1]]
    if percentiles:
        picked += [s[int(p / 100 * len(s))] for p in (50, 90, 99)]
    return [f"{v:.2f} {unit}" for v in picked]


def markdown(rows: list[list[str]], merge: bool) -> list[str]:
    """tabled's markdown style; with merge, a cell equal to the one above is blank."""
    widths = [max(len(row[c]) for row in rows) for c in range(len(rows[0]))]
    shown = [list(row) for row in rows]
    if merge:
        for i in range(1, len(rows)):
            for c in range(len(rows[0])):
                if rows[i][c] == rows[i - 1][c]:
                    shown[i][c] = ""
    lines = ["|" + "|".join(f" {v:<{w}} " for v, w in zip(shown[0], widths)) + "|"]
    lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    lines += ["|" + "|".join(f" {v:<{w}} " for v, w in zip(row, widths)) + "|" for row in shown[1:]]
    return lines


def expected_tables(batches, runs_done, seq=10, dec=8, new_prefill=True):
    """Latency and throughput tables; runs_done[b] = measured runs of batch b."""
    data = {b: runs_of(b, runs_done.get(b, 0), seq, dec, new_prefill) for b in batches}
    latency = [["Step", "Batch Size", "Average", "Lowest", "Highest", "p50", "p90", "p99"]]
    for step, key in (("Prefill", "prefill"), ("Decode (token)", "token"), ("Decode (total)", "total")):
        latency += [[step, str(b), *cells(data[b][key], "ms", True)] for b in batches]
    throughput = [["Step", "Batch Size", "Average", "Lowest", "Highest"]]
    for step, key in (("Prefill", "prefill_tp"), ("Decode", "decode_tp")):
        throughput += [[step, str(b), *cells(data[b][key], "tokens/secs", False)] for b in batches]
    return markdown(latency, merge=True), markdown(throughput, merge=True)


def fixture_lines(name: str) -> list[str]:
    path = FIXTURES / name
    if not path.exists():
        pytest.skip(f"fixture {path} not available")
    return path.read_text().splitlines()


# ------------------------------------------------------------------ SSH

def test_two_hosts_are_separate_machines_over_fabric(fleet):
    from fabric import Connection

    a, b = fleet(2)
    b.set_gpus(name="NVIDIA A100-SXM4-80GB", count=2, memory_mib=81920, driver="535.104.05", cuda="12.2")
    seen = {}
    for host in (a, b):
        conn = Connection(host.alias, config=fleet.fabric_config())
        with conn:
            result = conn.run(
                "echo $DOCKER_HOST; which nvidia-smi; hostname; "
                "nvidia-smi --query-gpu=index,name,memory.total,driver_version --format=csv,noheader,nounits",
                hide=True,
            )
            banner = conn.run("nvidia-smi", hide=True).stdout
        docker_host, smi_path, hostname, *gpus = result.stdout.splitlines()
        seen[host.alias] = (docker_host, gpus)
        assert docker_host == host.docker_host
        assert smi_path == str(host.bin_dir / "nvidia-smi")
        assert hostname == host.alias
        assert conn.host == host.address and conn.port == host.port and conn.user == "root"
        seen[host.alias + " banner"] = banner
    assert seen[a.alias][1][0] == "0, NVIDIA H100 80GB HBM3, 81559, 550.54.15"
    assert len(seen[a.alias][1]) == 8
    assert seen[b.alias][1] == ["0, NVIDIA A100-SXM4-80GB, 81920, 535.104.05",
                                "1, NVIDIA A100-SXM4-80GB, 81920, 535.104.05"]
    assert seen[a.alias][0] != seen[b.alias][0]
    assert "Driver Version: 550.54.15      CUDA Version: 12.4" in seen[a.alias + " banner"]
    assert "Driver Version: 535.104.05     CUDA Version: 12.2" in seen[b.alias + " banner"]


def test_nvidia_smi_fields_and_missing_driver(fleet):
    (a,) = fleet(1)
    a.set_gpus(count=1)
    with a.connect() as conn:
        out = conn.run("nvidia-smi --query-gpu=index,name,uuid,memory.total,memory.used,driver_version "
                       "--format=csv", hide=True).stdout.splitlines()
        assert out[0] == "index, name, uuid, memory.total [MiB], memory.used [MiB], driver_version"
        assert re.fullmatch(r"0, NVIDIA H100 80GB HBM3, GPU-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-"
                            r"[0-9a-f]{12}, 81559 MiB, 1 MiB, 550.54.15", out[1]), out[1]
        bad = conn.run("nvidia-smi --query-gpu=bogus --format=csv", hide=True, warn=True)
        assert bad.return_code == 2 and 'Field "bogus" is not a valid field to query.' in bad.stdout
        a.remove_nvidia_smi()
        missing = conn.run("nvidia-smi", hide=True, warn=True)
        assert missing.return_code == 127


def test_known_hosts_is_enforced(fleet, tmp_path):
    (a,) = fleet(1)
    key = paramiko.Ed25519Key.from_private_key_file(str(a.client_key))

    def connect(known_hosts: Path):
        client = paramiko.SSHClient()
        client.load_host_keys(str(known_hosts))
        client.set_missing_host_key_policy(paramiko.RejectPolicy())
        client.connect(a.address, a.port, username="root", pkey=key,
                       allow_agent=False, look_for_keys=False, timeout=5)
        return client

    connect(a.known_hosts).close()
    empty = tmp_path / "empty_known_hosts"
    empty.write_text("")
    with pytest.raises(paramiko.SSHException, match="not found in known_hosts"):
        connect(empty)
    other = fleet.down_host().host_public_key.split()
    wrong = tmp_path / "wrong_known_hosts"
    wrong.write_text(f"[{a.address}]:{a.port} {other[0]} {other[1]}\n")
    with pytest.raises(paramiko.BadHostKeyException):
        connect(wrong)
    # the helper Connection refuses unknown hosts too (plain Fabric would auto-add)
    conn = a.connect()
    conn.client._host_keys.clear()
    with pytest.raises(paramiko.SSHException):
        conn.open()


def test_stopped_sshd_cuts_connections_and_down_host_refuses(fleet):
    (a,) = fleet(1)
    down = fleet.down_host()
    with pytest.raises(Exception) as refused:
        fleet.connect(down.alias).open()
    assert "Unable to connect" in str(refused.value) or isinstance(refused.value, ConnectionRefusedError)

    conn = a.connect()
    assert conn.run("echo up", hide=True).stdout == "up\n"
    a.stop_sshd()
    assert not a.up
    with pytest.raises(Exception):
        conn.run("echo still there?", hide=True)
    with pytest.raises(Exception):
        a.connect().open()
    a.start_sshd()
    with a.connect() as again:
        assert again.run("echo back", hide=True).stdout == "back\n"


# ------------------------------------------------------------------ the stand-in server

def test_image_tags_are_loaded_and_gpus_flag_fails(fleet):
    (a,) = fleet(1)
    tags = a.docker("images", "--format", "{{.Repository}}:{{.Tag}}").stdout.split()
    assert set(IMAGE_TAGS) <= set(tags)
    inspect = json.loads(a.docker("image", "inspect", STANDIN_IMAGE).stdout)[0]
    assert inspect["Config"]["Entrypoint"] == ["/usr/local/bin/text-generation-launcher"]
    assert {"PORT=80", "HF_HOME=/data"} <= set(inspect["Config"]["Env"])
    assert inspect["RepoDigests"] == []   # imported, never pulled: no registry digest
    gpus = a.docker("run", "--rm", "--gpus", "all", STANDIN_IMAGE, "--version", check=False)
    assert gpus.returncode != 0
    assert 'could not select device driver "" with capabilities: [[gpu]]' in gpus.stderr


def test_server_becomes_healthy_and_reports_info_through_a_tunnel(fleet):
    a, b = fleet(2)
    a.set_standin(STARTUP_SECONDS=1.5)
    b.set_standin(STARTUP_SECONDS=0.2)
    start_tgi(a, "tgi-a", 8080, "--num-shard", "2", "--sharded", "true", "--dtype", "bfloat16")
    start_tgi(b, "tgi-b", 8080)   # same port on another host: its own loopback
    with a.connect() as conn:
        refused = conn.run("bash -c 'exec 3<>/dev/tcp/127.0.0.1/8080'", hide=True, warn=True)
        assert refused.return_code != 0 and "Connection refused" in refused.stderr
        assert not health(a, "tgi-a")
        wait_ready(a, "tgi-a")
        wait_ready(b, "tgi-b")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            local_port = s.getsockname()[1]
        with conn.forward_local(local_port, remote_port=8080, remote_host="127.0.0.1"):
            # Fabric binds the local end in a thread after entering the block
            deadline = time.monotonic() + 5
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{local_port}/health", timeout=5) as r:
                        assert r.status == 200
                    break
                except urllib.error.URLError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
            with urllib.request.urlopen(f"http://127.0.0.1:{local_port}/info", timeout=5) as r:
                assert r.headers["content-type"] == "application/json"
                info = json.load(r)
    assert info["model_id"] == MODEL and info["version"] == "3.3.5"
    assert re.fullmatch(r"[0-9a-f]{40}", info["model_sha"]) and info["docker_label"].startswith("sha-")
    assert info["max_input_tokens"] == 4095
    logs = a.docker("logs", "tgi-a").stdout
    for line in ("text_generation_launcher: Args {", "Starting check and download process",
                 "Shard ready in", "rank=1", "Warming up model", "Connected"):
        assert line in logs
    assert list(a.cache_dir.glob("hub/models--hf-internal-testing--llama-tokenizer/snapshots/*/model.safetensors"))
    assert a.docker("exec", "tgi-a", "ls", "/tmp/text-generation-server-0").returncode == 0
    assert fleet.gpubench_containers() == {a.alias: ["tgi-a"], b.alias: ["tgi-b"]}
    t0 = time.monotonic()
    a.docker("stop", "tgi-a")   # the launcher handles SIGTERM: no 10 s kill timeout
    assert time.monotonic() - t0 < 5
    assert "Shutting down shards" in a.docker("logs", "tgi-a").stdout


def test_fail_at_start_exits_with_the_oom_in_the_log(fleet):
    (a,) = fleet(1)
    a.set_standin(FAIL_AT_START=1, STARTUP_SECONDS=0.2)
    start_tgi(a, "tgi-oom")
    state = {}
    for _ in range(100):
        state = json.loads(a.docker("inspect", "tgi-oom").stdout)[0]["State"]
        if state["Status"] == "exited":
            break
        time.sleep(0.1)
    assert state["Status"] == "exited" and state["ExitCode"] == 1
    logs = a.docker("logs", "tgi-oom")
    assert OOM in logs.stdout and "Shard 0 failed to start" in logs.stdout
    assert "Error: ShardCannotStart" in logs.stderr


def test_gated_model_needs_the_token_which_is_never_logged(fleet):
    (a,) = fleet(1)
    secret = "hf_standinSecret123"
    a.set_standin(REQUIRE_TOKEN=secret, STARTUP_SECONDS=0.2)
    start_tgi(a, "tgi-token", env={"HF_TOKEN": secret})
    wait_ready(a, "tgi-token")
    logs = a.docker("logs", "tgi-token")
    assert secret not in logs.stdout + logs.stderr
    start_tgi(a, "tgi-no-token", 8081)
    a.docker("wait", "tgi-no-token", timeout=20)
    logs = a.docker("logs", "tgi-no-token")
    assert "GatedRepoError: 401 Client Error" in logs.stdout and "Error: DownloadError" in logs.stderr


# ------------------------------------------------------------------ the stand-in benchmark

def test_benchmark_refuses_to_run_without_a_terminal(fleet):
    (a,) = fleet(1)
    a.set_standin(STARTUP_SECONDS=0.1)
    start_tgi(a, "tgi")
    wait_ready(a, "tgi")
    result = a.docker("exec", "tgi", "text-generation-benchmark", "--tokenizer-name", MODEL, check=False)
    assert result.returncode == 101
    assert "Connected" in result.stdout
    assert 'Os { code: 6, kind: Uncategorized, message: "No such device or address" }' in result.stderr
    usage = a.docker("exec", "tgi", "text-generation-benchmark", check=False)
    assert usage.returncode == 2 and "--tokenizer-name <TOKENIZER_NAME>" in usage.stderr


def test_benchmark_screen_and_tables(fleet):
    (a,) = fleet(1)
    a.set_standin(STARTUP_SECONDS=0.1, RUN_SECONDS=0.02)
    start_tgi(a, "tgi")
    wait_ready(a, "tgi")
    with benchmark(a, "tgi") as term:
        term.wait_for(screen_has("Batch: 32"), 15, "the first frame")
        before = term.output
        assert b"Loading tokenizer" in before and b"Tokenizer loaded" in before
        assert b"Connect to model server" in before and b"\x1b[?1049h\x1b[?25l" in before
        screen = term.text()
        assert "Total Progress" in screen and "Batch Progress" in screen and "Batch: 1" in screen
        assert "<- | tab | ->: change batch tab | q / CTRL + c: quit | +/-: zoom" in screen
        term.wait_for(screen_has("6 / 6"), 60, "all batches done")
        assert "10 / 10" in term.text()
        # after the first frame, only changed cells are written, placed by cursor moves
        frames = term.output[term.output.index(b"\x1b[?1049h"):]
        assert len(re.findall(rb"\x1b\[\d+;\d+H", frames)) > 100
        time.sleep(0.5)
        assert term.read(0.3) == b"", "nothing changes once all batches are done"
        assert term.exit_status is None, "it never exits on its own"
        term.write(b"q")
        assert term.wait_exit(10) == 0
    parameters, latency, throughput = tables_after_screen(term.output)
    reference = fixture_lines("llama2-7b_1shard_tgi-pr868.txt")[:15]
    i = reference.index("| Repetition Penalty | None                                |")
    assert parameters == (reference[:i + 1] + ["| Frequency Penalty  | None                                |"]
                          + reference[i + 1:])
    batches = [1, 2, 4, 8, 16, 32]
    exp_latency, exp_throughput = expected_tables(batches, {b: 10 for b in batches})
    assert latency == exp_latency
    assert throughput == exp_throughput
    bloomz = fixture_lines("bloomz-7b1_tp2_nan-and-blank-rows.txt")
    bloomz_throughput = next(line for line in bloomz if line.startswith("| Step    |"))
    assert [c.strip() for c in latency[0].split("|")] == [c.strip() for c in bloomz[0].split("|")]
    assert [c.strip() for c in throughput[0].split("|")] == [c.strip() for c in bloomz_throughput.split("|")]
    assert set(latency[1]) == set(throughput[1]) == {"|", "-"}


def test_benchmark_follows_a_terminal_resize(fleet):
    (a,) = fleet(1)
    a.set_standin(STARTUP_SECONDS=0.1, RUN_SECONDS=0.01)
    start_tgi(a, "tgi")
    wait_ready(a, "tgi")
    help_line = "<- | tab | ->: change batch tab | q / CTRL + c: quit | +/-: zoom"
    with benchmark(a, "tgi", "-b", "1", "-r", "2", rows=24, cols=80) as term:
        term.wait_for(screen_has("1 / 1"), 15, "the batch done")
        assert term.screen.display[0].endswith(help_line)
        term.resize(40, 120)
        term.wait_for(lambda t: t.screen.display[0].endswith(help_line) and "─" * 100 in t.text(), 10,
                      "a frame drawn at the new size")
        assert b"\x1b[2J" in term.output
        term.write(b"q")
        assert term.wait_exit(10) == 0


def test_benchmark_over_fabric_pty_with_old_version(fleet):
    """The collector's path: Fabric run(pty=True) of `docker exec -it`, keys
    sent when the screen (read with pyte) shows every batch done."""
    import pyte

    (a,) = fleet(1)
    a.set_standin(STARTUP_SECONDS=0.1, RUN_SECONDS=0.01, TGI_VERSION="1.4.0")
    start_tgi(a, "tgi")
    wait_ready(a, "tgi")
    screen = pyte.Screen(80, 24)
    stream = pyte.ByteStream(screen)
    state = {"done": False, "raw": b""}

    class Out:   # what the remote pty prints, fed to a terminal emulator
        def write(self, text):
            data = text.encode()
            state["raw"] += data
            if b"\x1b[?1049h" in data:
                screen.reset()
            stream.feed(data)
            if any("3 / 3" in line for line in screen.display):   # Total Progress (runs: x / 4)
                state["done"] = True

        def flush(self):
            pass

    class Keys:   # stdin for the remote pty: `q` once the screen says done
        sent = False

        def read(self, n):
            if state["done"] and not self.sent:
                self.sent = True
                return "q"
            return None

    with a.connect() as conn:
        result = conn.run(
            f"docker exec -it tgi text-generation-benchmark -t {MODEL} -b 1 -b 2 -b 4 -r 4 -w 0 "
            "--temperature 0.5 --top-k 10",
            pty=True, out_stream=Out(), in_stream=Keys(), timeout=60,
        )
    assert result.return_code == 0
    parameters, latency, throughput = tables_after_screen(state["raw"])
    assert len(parameters) == 15   # header, rule and 13 rows: no Frequency Penalty before 1.4.1
    assert "| Temperature        | Some(0.5)                           |" in parameters
    assert "| Top K              | Some(10)                            |" in parameters
    exp_latency, exp_throughput = expected_tables([1, 2, 4], {1: 4, 2: 4, 4: 4}, new_prefill=False)
    assert latency == exp_latency and throughput == exp_throughput


def test_failed_batch_gives_nan_then_a_blank_row_and_a_red_gauge(fleet):
    (a,) = fleet(1)
    a.set_standin(STARTUP_SECONDS=0.1, RUN_SECONDS=0.01, FAIL_BATCH=16)
    start_tgi(a, "tgi")
    wait_ready(a, "tgi")
    with benchmark(a, "tgi") as term:
        term.wait_for(screen_has("4 / 6"), 60, "four batches done")
        time.sleep(0.5)
        term.read(0.2)
        row = next(i for i, line in enumerate(term.screen.display) if "4 / 6" in line)
        gauge_bg = {term.screen.buffer[row][x].bg for x in range(1, 20)}
        assert gauge_bg == {"cd0000"}, "the Total Progress gauge turns red"
        assert "4 / 6" in term.text(), "a failed batch never completes"
        term.write(b"\x03")   # Ctrl-C in raw mode
        assert term.wait_exit(10) == 0
    _, latency, throughput = tables_after_screen(term.output)
    exp_latency, exp_throughput = expected_tables([1, 2, 4, 8, 16, 32], {1: 10, 2: 10, 4: 10, 8: 10})
    assert latency == exp_latency and throughput == exp_throughput
    nan_row = next(line for line in latency if line.startswith("|                | 16 "))
    blank_row = latency[latency.index(nan_row) + 1]
    assert "NaN ms" in nan_row
    assert re.fullmatch(r"\|\s+\| 32\s+\|(\s+\|){6}", blank_row), blank_row


def test_hang_never_completes_and_quitting_prints_partial_tables(fleet):
    (a,) = fleet(1)
    a.set_standin(STARTUP_SECONDS=0.1, RUN_SECONDS=0.01, HANG="yes")
    start_tgi(a, "tgi")
    wait_ready(a, "tgi")
    with benchmark(a, "tgi", "-b", "1", "-b", "2") as term:
        term.wait_for(screen_has("5 / 10"), 20, "half the runs of the first batch")
        time.sleep(1.5)
        term.read(0.2)
        assert "0 / 2" in term.text() and "5 / 10" in term.text()
        term.write(b"q")
        assert term.wait_exit(10) == 0
    _, latency, _ = tables_after_screen(term.output)
    exp_latency, _ = expected_tables([1, 2], {1: 5})
    assert latency == exp_latency
    assert "| 2          | NaN ms" in latency[3]


def test_gpubench_containers_lists_labelled_containers_on_all_engines(fleet):
    a, b = fleet(2)
    assert fleet.gpubench_containers() == {}
    b.docker("run", "-d", "--name", "left-behind", "--label", "gpubench=run-1", "--network", "host",
             "--entrypoint", "sleep", STANDIN_IMAGE, "60")
    a.docker("run", "-d", "--name", "unrelated", "--network", "host",
             "--entrypoint", "sleep", STANDIN_IMAGE, "60")
    assert fleet.gpubench_containers() == {b.alias: ["left-behind"]}
