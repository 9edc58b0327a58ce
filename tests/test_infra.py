"""The test infrastructure itself: real sshd hosts, real Docker engines, the
stand-in TGI image and nvidia-smi behave as tests/simfleet/standin/README.md says,
the stand-in vLLM and SGLang images as tests/simfleet/standin_serving/README.md says."""
from __future__ import annotations

import json
import math
import re
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import paramiko
import pytest

from tests.simfleet import (
    ALTERNATE_SCREEN_OFF,
    IMAGE_TAGS,
    SGLANG_IMAGE,
    SGLANG_IMAGE_TAGS,
    STANDIN_IMAGE,
    VLLM_IMAGE,
    VLLM_IMAGE_TAGS,
    PtyProcess,
)

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


# ------------------------------------------------------------------ the stand-in vLLM and SGLang images

SERVING_FIXTURES = Path(__file__).resolve().parent / "fixtures" / "serving"
LLAMA = "meta-llama/Llama-3.3-70B-Instruct"
HF_CACHE = "/root/.cache/huggingface"   # where the collector is expected to mount the host's cache


def run_serving(host, name: str, image: str, *args: str, env: dict | None = None) -> str:
    """docker run a serving stand-in as a collector would (host network, cache on the HF cache path)."""
    env_args = []
    for key, value in (env or {}).items():
        env_args += ["-e", f"{key}={value}"]
    host.docker("run", "-d", "--name", name, "--network", "host", "--label", "gpubench=test", "--shm-size", "1g",
                "-v", f"{host.cache_dir}:{HF_CACHE}", *env_args, image, *args)
    return name


def start_vllm(host, name: str, *args: str, env: dict | None = None) -> str:
    return run_serving(host, name, VLLM_IMAGE, *args, env=env)


def start_sglang(host, name: str, *args: str, env: dict | None = None) -> str:
    return run_serving(host, name, SGLANG_IMAGE, "python3", "-m", "sglang.launch_server", *args, env=env)


def http(host, container: str, url: str, data: str | None = None) -> tuple[int | None, str]:
    """(status, body) of a request made inside the container (its host's network); status None: no connection."""
    args = ["exec", container, "wget", "-S", "-q", "-O", "-"]
    if data is not None:
        args += ["--header", "Content-Type: application/json", "--post-data", data]
    result = host.docker(*args, url, check=False)
    match = re.search(r"HTTP/1\.1 (\d{3})", result.stderr)
    return (int(match.group(1)) if match else None), result.stdout


def wait_for(predicate, timeout: float, what: str, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(interval)


def wait_status(host, container: str, url: str, status: int, timeout: float = 20) -> None:
    wait_for(lambda: http(host, container, url)[0] == status, timeout, f"{url} -> {status}",)


def wait_exit(host, container: str, timeout: float = 20) -> dict:
    def exited():
        state = json.loads(host.docker("inspect", container).stdout)[0]["State"]
        return state if state["Status"] == "exited" else None
    return wait_for(exited, timeout, f"{container} to exit")


def exec_bench(host, container: str, *argv: str, env: dict | None = None):
    env_args = []
    for key, value in (env or {}).items():
        env_args += ["-e", f"{key}={value}"]
    result = host.docker("exec", *env_args, container, *argv, check=False, timeout=120, text=False)
    # decoded here: text mode would turn tqdm's \r into newlines
    return subprocess.CompletedProcess(result.args, result.returncode, result.stdout.decode(), result.stderr.decode())


def block_rows(text: str) -> list[tuple[str, str]]:
    """(label, value) rows of the printed 'Serving Benchmark Result' block, section titles as ('-', title)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if "Serving Benchmark Result" in line)
    rows = []
    for line in lines[start + 1:]:
        if line == "=" * 50:
            return rows
        if line.startswith("-"):
            rows.append(("-", line.strip("-")))
            continue
        assert len(line) >= 51 and line[40] == " ", repr(line)   # "{:<40} {:<10}"
        label, value = line[:40].rstrip(), line[41:].rstrip()
        rows.append((label, value))
    raise AssertionError("block not closed")


# Independent model of the stand-ins' numbers (standin_serving/README.md, "Numbers").
def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    s = sorted(values)
    idx = p / 100 * (len(s) - 1)
    lo = math.floor(idx)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (idx - lo)


def summary(values: list[float]) -> dict:
    if not values:
        return {"mean": 0.0, "median": 0.0, "std": 0.0, "max": 0.0, "values": []}
    mean = sum(values) / len(values)
    return {"mean": mean, "median": percentile(values, 50),
            "std": math.sqrt(sum((v - mean) ** 2 for v in values) / len(values)), "max": max(values),
            "values": values}


def expected_point(tool: str, n: int, c: int | None, lin: int, lout: int, r: float = 0.0, seed: int = 0,
                   ignore_eos: bool = True, rate: float = math.inf) -> dict:
    conc = c if c and c < n else n
    tpot_base = 8 + 0.25 * conc + 0.001 * lin
    prompts, gens, ttft, tpot, itl, e2e, latencies, queue = [], [], [], [], [], [], [], []
    duration = wave_max = 0.0
    planned_in = planned_out = 0
    for i in range(n):
        if i and i // conc != (i - 1) // conc:
            duration += wave_max
            wave_max = 0.0
        queue.append(duration)
        u = ((i * 7919 + seed * 104729) % 1000) / 1000
        v = ((i * 6271 + seed * 7907 + 500) % 1000) / 1000
        if tool == "vllm":
            lo, hi = math.floor((lin - 1) * (1 - r)), math.ceil((lin - 1) * (1 + r))
            olo, ohi = math.floor(lout * (1 - r)), math.ceil(lout * (1 + r))
            inp = lo + math.floor(u * (hi - lo + 1))
            prompt = inp + 1
            out = max(1, olo + math.floor(v * (ohi - olo + 1)))
        else:
            lo, olo = max(int(lin * r), 1), max(int(lout * r), 1)
            inp = lo + math.floor(u * (lin - lo + 1))
            prompt = inp
            out = olo + math.floor(v * (lout - olo + 1))
        planned_in += inp
        planned_out += out
        gen = out if ignore_eos else max(1, math.floor(out * (3 if i % 2 else 2) / 4))
        k1, k2 = (7 * i) % 11 - 5, (3 * i) % 7 - 3
        t = (20 + 0.02 * prompt * conc) * (1 + k1 / 100)
        p = tpot_base * (1 + k2 / 200)
        e = t + (gen - 1) * p
        wave_max = max(wave_max, e / 1000)
        prompts.append(prompt)
        gens.append(gen)
        ttft.append(t)
        e2e.append(e)
        latencies.append(e / 1000)
        if gen > 1:
            tpot.append(p)
        itl += [p] * (gen - 1)
    duration += wave_max
    if rate != math.inf:
        duration = max(duration, n / rate)
    total_in, total_out = sum(prompts), sum(gens)
    return {
        "duration": duration, "completed": n, "total_input_tokens": total_in, "total_output_tokens": total_out,
        "request_throughput": n / duration, "input_throughput": total_in / duration,
        "output_throughput": total_out / duration, "total_throughput": (total_in + total_out) / duration,
        "max_output_tokens_per_s": float(min(total_out, math.floor(1000 * conc / tpot_base))),
        "max_concurrent_requests": min(n, 2 * conc), "concurrency": sum(latencies) / duration,
        "ttft": summary(ttft), "tpot": summary(tpot), "itl": summary(itl), "e2el": summary(e2e),
        "latencies": latencies, "queue_times": queue, "planned": (planned_in, planned_out),
    }


def close(a, b) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def fixture_json_line(name: str) -> dict:
    path = SERVING_FIXTURES / name
    if not path.exists():
        pytest.skip(f"fixture {path} not available")
    return json.loads(path.read_text().strip().splitlines()[-1])


def fixture_block_labels(name: str) -> list[str]:
    path = SERVING_FIXTURES / name
    if not path.exists():
        pytest.skip(f"fixture {path} not available")
    return [label for label, _ in block_rows(path.read_text().replace("\r", "\n"))]


def check_vllm_json(result: dict, exp: dict, metrics=("ttft", "tpot", "itl"), percentiles=(99,)) -> None:
    for key in ("duration", "request_throughput", "output_throughput", "max_output_tokens_per_s"):
        assert close(result[key], exp[key]), (key, result[key], exp[key])
    assert close(result["total_token_throughput"], exp["total_throughput"])
    for key in ("completed", "total_input_tokens", "total_output_tokens", "max_concurrent_requests"):
        assert result[key] == exp[key], (key, result[key], exp[key])
    assert result["failed"] == 0 and result["rtfx"] == 0.0 and result["request_goodput"] is None
    assert all(close(a, b) for a, b in zip(result["latencies"], exp["latencies"], strict=True))
    assert all(close(a, b) for a, b in zip(result["queue_times"], exp["queue_times"], strict=True))
    for m in metrics:
        assert close(result[f"mean_{m}_ms"], exp[m]["mean"]), m
        assert close(result[f"median_{m}_ms"], exp[m]["median"]), m
        assert close(result[f"std_{m}_ms"], exp[m]["std"]), m
        for p in percentiles:
            word = str(int(p)) if int(p) == p else str(p)
            assert close(result[f"p{word}_{m}_ms"], percentile(exp[m]["values"], p)), (m, p)


def test_serving_images_are_loaded_with_their_entrypoints(fleet):
    (a,) = fleet(1)
    tags = a.docker("images", "--format", "{{.Repository}}:{{.Tag}}").stdout.split()
    assert set(VLLM_IMAGE_TAGS) | set(SGLANG_IMAGE_TAGS) <= set(tags)
    assert "vllm/vllm-openai:v0.33.0" in VLLM_IMAGE_TAGS and "lmsysorg/sglang:v0.5.14" in SGLANG_IMAGE_TAGS
    vllm = json.loads(a.docker("image", "inspect", VLLM_IMAGE).stdout)[0]
    sglang = json.loads(a.docker("image", "inspect", SGLANG_IMAGE).stdout)[0]
    assert vllm["Config"]["Entrypoint"] == ["vllm", "serve"] and vllm["Config"]["WorkingDir"] == "/vllm-workspace"
    assert not sglang["Config"]["Entrypoint"] and sglang["Config"]["WorkingDir"] == "/sgl-workspace"
    assert vllm["RepoDigests"] == [] == sglang["RepoDigests"]
    version = a.docker("run", "--rm", "--entrypoint", "vllm", VLLM_IMAGE, "--version")
    assert version.stdout == "0.33.0\n"
    other = a.docker("run", "--rm", SGLANG_IMAGE, "python3", "-m", "sglang.check_env", check=False)
    assert other.returncode == 1 and "/usr/bin/python3: No module named sglang.check_env" in other.stderr
    cross = a.docker("run", "--rm", "--entrypoint", "python3", VLLM_IMAGE, "-m", "sglang.bench_serving", check=False)
    assert cross.returncode == 1 and "/usr/bin/python3: No module named sglang.bench_serving" in cross.stderr
    code = a.docker("run", "--rm", SGLANG_IMAGE, "python3", "-c", "print(1)", check=False)
    assert code.returncode == 2 and code.stdout == ""
    usage = a.docker("run", "--rm", SGLANG_IMAGE, "python3", "-m", "sglang.launch_server", "--tp", "2", check=False)
    assert usage.returncode == 2
    assert "launch_server.py: error: the following arguments are required: --model-path" in usage.stderr


def test_vllm_server_port_closed_until_loaded_then_health_version_models(fleet):
    (a,) = fleet(1)
    a.set_standin(STARTUP_SECONDS=1.5)
    start_vllm(a, "vllm", LLAMA, "--tensor-parallel-size", "2", "--served-model-name", "llama", "llama-3.3",
               "--max-model-len=4096", "--gpu-memory-utilization", "0.9", "--trust-remote-code", "--enforce-eager",
               "--dtype", "auto")
    assert http(a, "vllm", "http://127.0.0.1:8000/health") == (None, ""), "nothing answers while loading"
    assert http(a, "vllm", "http://127.0.0.1:8000/v1/models")[0] is None
    wait_status(a, "vllm", "http://127.0.0.1:8000/health", 200)
    assert http(a, "vllm", "http://127.0.0.1:8000/health") == (200, "")
    assert http(a, "vllm", "http://127.0.0.1:8000/version") == (200, '{"version":"0.33.0"}')
    status, body = http(a, "vllm", "http://127.0.0.1:8000/v1/models")
    models = json.loads(body)
    assert status == 200 and [m["id"] for m in models["data"]] == ["llama", "llama-3.3"]
    assert {m["root"] for m in models["data"]} == {LLAMA} and models["data"][0]["max_model_len"] == 4096
    status, body = http(a, "vllm", "http://127.0.0.1:8000/v1/completions",
                        '{"model": "llama", "prompt": "hi hi", "max_tokens": 3}')
    assert status == 200 and json.loads(body)["usage"] == {"prompt_tokens": 3, "total_tokens": 6,
                                                          "completion_tokens": 3}
    assert http(a, "vllm", "http://127.0.0.1:8000/v1/completions",
                '{"model": "other", "prompt": "hi", "max_tokens": 3}')[0] == 404
    assert http(a, "vllm", "http://127.0.0.1:8000/info")[0] == 404
    logs = a.docker("logs", "vllm").stdout
    milestones = ["vLLM server version 0.33.0, serving model " + LLAMA, "Loading weights took",
                  "GPU KV cache size: 400,000 tokens", "Maximum concurrency for 4,096 tokens per request: 97.66x",
                  "Starting vLLM server on http://0.0.0.0:8000", "Available routes are:",
                  "Application startup complete."]
    positions = [logs.index(m) for m in milestones]
    assert positions == sorted(positions)
    assert "(Worker_TP1 pid=" in logs and "'tensor_parallel_size': 2" in logs
    assert re.search(r"^\(APIServer pid=1\) INFO \d\d-\d\d \d\d:\d\d:\d\d \[api_server\.py:\d+\] ", logs, re.MULTILINE)
    assert list(a.cache_dir.glob("hub/models--meta-llama--Llama-3.3-70B-Instruct/snapshots/*/model.safetensors"))
    t0 = time.monotonic()
    a.docker("stop", "vllm")
    assert time.monotonic() - t0 < 5
    assert "Shutting down FastAPI HTTP server." in a.docker("logs", "vllm").stdout


def test_vllm_bench_serve_prints_the_block_and_saves_the_json(fleet):
    from collector.parsers.serving import parse_serving_output

    (a,) = fleet(1)
    a.set_standin(STARTUP_SECONDS=0.2, BENCH_SECONDS=0.5)
    start_vllm(a, "vllm", "--model", LLAMA, "--tensor-parallel-size", "2", "--port", "8000", "--host", "127.0.0.1",
               "--served-model-name", "llama")   # as the collector starts it on a host network
    wait_status(a, "vllm", "http://127.0.0.1:8000/health", 200)
    deadline = time.monotonic() + 10  # the log line and the open port come from two processes: either may be first
    while "Starting vLLM server on http://127.0.0.1:8000" not in a.docker("logs", "vllm").stdout:
        assert time.monotonic() < deadline, a.docker("logs", "vllm").stdout[-500:]
        time.sleep(0.1)
    assert http(a, "vllm", f"http://{a.address}:8000/health")[0] is None, "bound to loopback only"
    t0 = time.monotonic()
    run = exec_bench(a, "vllm", "vllm", "bench", "serve", "--base-url", "http://127.0.0.1:8000", "--backend",
                     "openai", "--endpoint", "/v1/completions", "--model", LLAMA, "--served-model-name", "llama",
                     "--dataset-name", "random", "--random-input-len", "128", "--random-output-len", "128",
                     "--num-prompts", "40", "--max-concurrency", "8", "--request-rate", "inf", "--save-result",
                     "--result-dir", "/tmp/results", "--result-filename", "vllm-c8.json")
    assert run.returncode == 0, run.stderr
    assert time.monotonic() - t0 >= 0.5, "BENCH_SECONDS of wall time"
    out = run.stdout
    assert out.startswith("Namespace(subparser='bench', bench_type='serve', dispatch_function=<function ")
    for line in ("Sampling input_len from [127, 127] and output_len from [128, 128]", "Skipping endpoint ready check.",
                 "Starting main benchmark run...", "Traffic request rate: inf", "Maximum request concurrency: 8",
                 "tip: install termplotlib and gnuplot to plot the metrics", "WARNING: vllm bench serve no longer"):
        assert line in out
    assert "\r100%|██████████| 40/40 [" in run.stderr
    rows = block_rows(out)
    assert [label for label, _ in rows] == fixture_block_labels("vllm-nightly_llama-3.3-70b_2xpro6000_c32.txt")
    saved = json.loads(a.docker("exec", "vllm", "cat", "/tmp/results/vllm-c8.json").stdout)
    nightly = list(json.loads((SERVING_FIXTURES / "vllm-nightly_llama-3.3-70b_2xpro6000_c32.json").read_text()))
    at = nightly.index("total_token_throughput") + 1
    assert list(saved) == nightly[:at] + ["latencies", "queue_times"] + nightly[at:]
    assert saved["model_id"] == LLAMA and saved["request_rate"] == "inf" and saved["max_concurrency"] == 8
    assert saved["backend"] == saved["endpoint_type"] == "openai" and saved["label"] is None
    assert re.fullmatch(r"\d{8}-\d{6}", saved["date"])
    exp = expected_point("vllm", 40, 8, 128, 128)
    check_vllm_json(saved, exp)
    printed = dict(rows)
    assert printed["Successful requests:"] == "40" and printed["Failed requests:"] == "0"
    assert printed["Total input tokens:"] == "5120" and printed["Total generated tokens:"] == "5120"
    assert abs(float(printed["Mean TTFT (ms):"]) - exp["ttft"]["mean"]) <= 0.0051
    assert abs(float(printed["P99 ITL (ms):"]) - percentile(exp["itl"]["values"], 99)) <= 0.0051
    assert printed["Peak concurrent requests:"] == "16.00"
    # gpubench's parser reads the capture (printed block + Namespace) and the saved file
    (from_capture,) = parse_serving_output(out + run.stderr, "capture.txt")
    assert from_capture.tool == "vllm bench serve" and from_capture.source == "printed"
    assert from_capture.workload.num_prompts == 40 and from_capture.workload.ignore_eos is True
    assert from_capture.requested_output_tokens == 5120 and from_capture.value("output_tokens") == 5120
    assert abs(from_capture.value("ttft_ms", "median") - exp["ttft"]["median"]) <= 0.0051
    (from_json,) = parse_serving_output(json.dumps(saved), "vllm-c8.json")
    assert from_json.version_hint == ">=0.20 key set (rtfx)" and from_json.warnings == []
    assert close(from_json.value("duration_s"), exp["duration"])

    # another load, appended: range ratio, other percentiles, E2EL, default seed, no concurrency limit
    run = exec_bench(a, "vllm", "vllm", "bench", "serve", "--model", LLAMA, "--served-model-name", "llama",
                     "--random-input-len", "200", "--random-output-len", "20", "--random-range-ratio", "0.5",
                     "--num-prompts", "25", "--percentile-metrics", "ttft,tpot,itl,e2el",
                     "--metric-percentiles", "50,90,99.9", "--append-result", "--result-dir", "/tmp/results",
                     "--result-filename", "vllm-c8.json", "--label", "sweep", "--metadata", "gpu=H100", "tp=2")
    assert run.returncode == 0, run.stderr
    assert "Sampling input_len from [99, 299] and output_len from [10, 30]" in run.stdout
    assert "Maximum request concurrency: None" in run.stdout
    labels = [label for label, _ in block_rows(run.stdout)]
    assert "Maximum request concurrency:" not in labels and "P99.9 E2EL (ms):" in labels
    text = a.docker("exec", "vllm", "cat", "/tmp/results/vllm-c8.json").stdout
    first, second = text.split("\n")
    assert json.loads(first) == saved
    second = json.loads(second)
    assert second["label"] == "sweep" and second["gpu"] == "H100" and second["tp"] == "2"
    assert second["max_concurrency"] is None
    exp = expected_point("vllm", 25, None, 200, 20, r=0.5)
    check_vllm_json(second, exp, ("ttft", "tpot", "itl", "e2el"), (50, 90, 99.9))
    assert len(parse_serving_output(text, "appended.json")) == 2


def test_vllm_bench_serve_failures_are_results_or_tracebacks_as_the_real_client(fleet):
    from collector.parsers.serving import parse_serving_output

    (a,) = fleet(1)
    a.set_standin(STARTUP_SECONDS=0.2, BENCH_SECONDS=0.1, FAIL_CONCURRENCY=8)
    start_vllm(a, "vllm", LLAMA)
    wait_status(a, "vllm", "http://127.0.0.1:8000/health", 200)
    common = ("--model", LLAMA, "--random-input-len", "64", "--random-output-len", "16", "--num-prompts", "16",
              "--save-result", "--result-dir", "/tmp")

    def bench(*args: str, env: dict | None = None):
        return exec_bench(a, "vllm", "vllm", "bench", "serve", *common, *args, env=env)

    fine = bench("--max-concurrency", "4", "--result-filename", "c4.json")
    assert fine.returncode == 0
    assert '"completed": 16, "failed": 0' in a.docker("exec", "vllm", "cat", "/tmp/c4.json").stdout
    failed = bench("--max-concurrency", "8", "--result-filename", "c8.json")
    assert failed.returncode == 0, "all requests failing is a result, not a crash"
    assert "Failed requests during benchmark run detected (capping to 10):" in failed.stdout
    assert failed.stdout.count("Error 0: Internal Server Error") == 1 and "Error 9: " in failed.stdout
    assert "UserWarning: All requests failed." in failed.stderr
    assert dict(block_rows(failed.stdout))["Successful requests:"] == "0"
    saved = json.loads(a.docker("exec", "vllm", "cat", "/tmp/c8.json").stdout)
    assert saved["completed"] == 0 and saved["failed"] == 16 and saved["mean_ttft_ms"] == 0.0
    assert close(saved["duration"], 0.05 * 2)
    (result,) = parse_serving_output(failed.stdout + failed.stderr, "c8.txt")
    assert any("16 request(s) failed" in w for w in result.warnings)

    unreachable = bench("--base-url", "http://127.0.0.1:8999", "--max-concurrency", "4", "--result-filename", "x.json")
    assert unreachable.returncode == 0
    assert "aiohttp.client_exceptions.ClientConnectorError: Cannot connect to host 127.0.0.1:8999 ssl:default " \
           "[Connect call failed ('127.0.0.1', 8999)]" in unreachable.stdout
    wrong_model = bench("--served-model-name", "nope", "--result-filename", "y.json")
    assert wrong_model.returncode == 0 and "Error 0: Not Found" in wrong_model.stdout
    no_model = exec_bench(a, "vllm", "vllm", "bench", "serve", "--port", "8999", "--num-prompts", "4")
    assert no_model.returncode == 1
    assert no_model.stderr.startswith("Traceback (most recent call last):")
    assert "RuntimeError: Failed to fetch models from server at http://127.0.0.1:8999/v1/models." in no_model.stderr
    found = exec_bench(a, "vllm", "vllm", "bench", "serve", "--num-prompts", "4", "--random-input-len", "8",
                       "--random-output-len", "4")
    assert found.returncode == 0 and f"First model name: {LLAMA}, first model id: {LLAMA}" in found.stdout
    ready = bench("--base-url", "http://127.0.0.1:8999", "--ready-check-timeout-sec", "1",
                  "--result-filename", "z.json")
    assert ready.returncode == 1 and "Waiting for endpoint to become up in 1 seconds" in ready.stdout
    assert "ValueError: Initial test run failed - Please make sure benchmark arguments are correctly specified." \
           in ready.stderr
    usage = bench("--no-such-flag")
    assert usage.returncode == 2 and "vllm bench serve: error: unrecognized arguments: --no-such-flag" in usage.stderr
    bad = bench("--num-prompts", "x")
    assert bad.returncode == 2 and "argument --num-prompts: invalid int value: 'x'" in bad.stderr


def test_vllm_port_in_use_fail_at_start_and_gated_model(fleet):
    (a,) = fleet(1)
    secret = "hf_standinSecret456"
    a.set_standin(STARTUP_SECONDS=0.3)
    start_vllm(a, "first", LLAMA)
    wait_status(a, "first", "http://127.0.0.1:8000/health", 200)
    start_vllm(a, "second", "other/model")   # same default port, same network
    assert wait_exit(a, "second")["ExitCode"] == 1
    logs = a.docker("logs", "second")
    assert logs.stderr.rstrip().endswith("(APIServer pid=1) OSError: [Errno 98] Address already in use")
    assert "Starting to load model" not in logs.stdout, "the real server binds before loading"

    a.set_standin(STARTUP_SECONDS=0.3, FAIL_AT_START=1)
    start_vllm(a, "oom", LLAMA, "--port", "8001")
    assert wait_exit(a, "oom")["ExitCode"] == 1
    logs = a.docker("logs", "oom")
    assert "ERROR" in logs.stdout and "EngineCore failed to start." in logs.stdout and OOM in logs.stdout
    assert "RuntimeError: Engine core initialization failed. See root cause above." in logs.stderr

    a.set_standin(STARTUP_SECONDS=0.3, REQUIRE_TOKEN=secret, BENCH_SECONDS=0.1)
    start_vllm(a, "gated", LLAMA, "--port", "8002")
    assert wait_exit(a, "gated")["ExitCode"] == 1
    logs = a.docker("logs", "gated")
    assert "huggingface_hub.errors.GatedRepoError: 401 Client Error." in logs.stderr
    assert f"Cannot access gated repo for url https://huggingface.co/{LLAMA}/resolve/main/config.json." in logs.stderr
    start_vllm(a, "token", LLAMA, "--port", "8003", env={"HUGGING_FACE_HUB_TOKEN": secret})
    wait_status(a, "token", "http://127.0.0.1:8003/health", 200)
    ok = exec_bench(a, "token", "vllm", "bench", "serve", "--port", "8003", "--model", LLAMA, "--num-prompts", "4")
    assert ok.returncode == 0, ok.stderr
    refused = exec_bench(a, "token", "vllm", "bench", "serve", "--port", "8003", "--model", LLAMA,
                         env={"HUGGING_FACE_HUB_TOKEN": "", "HF_TOKEN": ""})
    assert refused.returncode == 1 and "OSError: You are trying to access a gated repo." in refused.stderr
    for name in ("gated", "token"):
        logs = a.docker("logs", name)
        assert secret not in logs.stdout + logs.stderr
    assert secret not in ok.stdout + ok.stderr + refused.stdout + refused.stderr


def test_sglang_health_is_503_while_v1_models_answers_then_200(fleet):
    (a,) = fleet(1)
    a.set_standin(STARTUP_SECONDS=4)   # /health 503 for the last 1.6 s
    start_sglang(a, "sglang", "--model-path", LLAMA, "--tp", "2", "--host", "0.0.0.0", "--port", "30000",
                 "--context-length", "4096", "--mem-fraction-static", "0.88", "--trust-remote-code")
    assert http(a, "sglang", "http://127.0.0.1:30000/v1/models")[0] is None, "closed while loading"
    wait_status(a, "sglang", "http://127.0.0.1:30000/v1/models", 200, timeout=20)
    assert http(a, "sglang", "http://127.0.0.1:30000/health")[0] == 503, "up but not warmed up"
    assert http(a, "sglang", "http://127.0.0.1:30000/health_generate")[0] == 503
    assert "ready to roll" not in a.docker("logs", "sglang").stderr
    wait_status(a, "sglang", "http://127.0.0.1:30000/health", 200)
    logs = a.docker("logs", "sglang").stderr
    milestones = ["server_args=ServerArgs(model_path='meta-llama/Llama-3.3-70B-Instruct'", "TP1] Load weight begin",
                  "TP0] Load weight end", "TP0] KV Cache is allocated. #tokens: 20620",
                  "Uvicorn running on http://0.0.0.0:30000", "The server is fired up and ready to roll!"]
    positions = [logs.index(m) for m in milestones]
    assert positions == sorted(positions)
    status, body = http(a, "sglang", "http://127.0.0.1:30000/v1/models")
    assert status == 200 and json.loads(body)["data"][0]["id"] == LLAMA
    status, body = http(a, "sglang", "http://127.0.0.1:30000/server_info")
    info = json.loads(body)
    real = fixture_json_line("sglang-0.5.14_llama-3.3-70b_2xh100_c32.json")["server_info"]
    assert list(info) == list(real) and list(info["internal_states"][0]) == list(real["internal_states"][0])
    assert info["version"] == "0.5.14" and info["api_key"] is None and info["tp_size"] == 2
    assert info["model_path"] == info["served_model_name"] == LLAMA and info["trust_remote_code"] is True
    differ = {k for k in info if k != "internal_states" and info[k] != real[k]}
    assert differ == {"model_path", "tokenizer_path", "served_model_name",   # the real run served unsloth/...
                      "random_seed", "trust_remote_code", "disable_custom_all_reduce"}   # and had other flags
    status, body = http(a, "sglang", "http://127.0.0.1:30000/get_server_info")
    assert status == 200 and json.loads(body) == info
    assert "Endpoint '/get_server_info' is deprecated and will be removed in a future version. Please use " \
           "'/server_info' instead." in a.docker("logs", "sglang").stderr
    status, body = http(a, "sglang", "http://127.0.0.1:30000/model_info")
    assert status == 200 and json.loads(body)["model_path"] == LLAMA
    assert http(a, "sglang", "http://127.0.0.1:30000/version")[0] == 404

    # default --host 127.0.0.1: reachable on loopback only
    a.set_standin(STARTUP_SECONDS=0.2)
    start_sglang(a, "loopback", "--model-path", LLAMA, "--port", "30001", "--api-key", "sk-standin-key")
    wait_status(a, "loopback", "http://127.0.0.1:30001/health", 200)
    assert http(a, "loopback", f"http://{a.address}:30001/health")[0] is None
    assert http(a, "sglang", f"http://{a.address}:30000/health")[0] == 200
    assert "Uvicorn running on http://127.0.0.1:30001" in a.docker("logs", "loopback").stderr
    info = json.loads(http(a, "loopback", "http://127.0.0.1:30001/server_info")[1])
    assert info["api_key"] == "sk-standin-key" and info["host"] == "127.0.0.1" and info["tp_size"] == 1
    t0 = time.monotonic()
    a.docker("stop", "sglang")
    assert time.monotonic() - t0 < 5 and "INFO:     Shutting down" in a.docker("logs", "sglang").stderr


def test_sglang_bench_serving_appends_a_line_per_run(fleet):
    from collector.parsers.serving import parse_serving_output

    (a,) = fleet(1)
    a.set_standin(STARTUP_SECONDS=0.2, BENCH_SECONDS=0.3)
    start_sglang(a, "sglang", "--model-path", LLAMA, "--tp-size", "2", "--host", "0.0.0.0", "--port", "30000")
    wait_status(a, "sglang", "http://127.0.0.1:30000/health", 200)
    real = fixture_json_line("sglang-0.5.14_llama-3.3-70b_2xh100_c32.json")
    runs = []
    for extra in (("--max-concurrency", "4"), ("--max-concurrency", "1", "--disable-ignore-eos")):
        run = exec_bench(a, "sglang", "python3", "-m", "sglang.bench_serving", "--backend", "sglang", "--base-url",
                         "http://127.0.0.1:30000", "--model", LLAMA, "--dataset-name", "random",
                         "--random-input-len", "128", "--random-output-len", "64", "--num-prompts", "20",
                         "--request-rate", "inf", "--output-file", "/tmp/sglang.jsonl", *extra)
        assert run.returncode == 0, run.stderr
        runs.append(run)
    out = runs[0].stdout
    exp = expected_point("sglang", 20, 4, 128, 64, seed=42)
    assert out.startswith("benchmark_args=Namespace(backend='sglang', base_url='http://127.0.0.1:30000', "
                          "host='0.0.0.0', port=None, ")
    assert "\nNamespace(backend='sglang', base_url='http://127.0.0.1:30000', host='0.0.0.0', port=30000, " in out
    for line in ("Waiting up to 60s for http://127.0.0.1:30000/v1/models to become ready...", "Server ready in ",
                 f"#Input tokens: {exp['planned'][0]}\n#Output tokens: {exp['planned'][1]}\n",
                 "Starting warmup with 1 sequences...",
                 "Warmup completed with 1 sequences. Starting main benchmark run...", "seed=42,"):
        assert line in out
    rows = block_rows(out)
    assert [label for label, _ in rows] == fixture_block_labels("sglang-0.5.14_llama-3.3-70b_2xh100_c32.txt")
    printed = dict(rows)
    assert printed["Backend:"] == "sglang" and printed["Traffic request rate:"] == "inf"
    assert printed["Max request concurrency:"] == "4" and printed["Peak concurrent requests:"] == "8"
    assert abs(float(printed["Max ITL (ms):"]) - exp["itl"]["max"]) <= 0.0051
    lines = a.docker("exec", "sglang", "cat", "/tmp/sglang.jsonl").stdout.splitlines()
    assert len(lines) == 2 and "\"request_rate\": Infinity" in lines[0]
    first = json.loads(lines[0])
    assert list(first) == list(real)
    assert first["server_info"] == json.loads(http(a, "sglang", "http://127.0.0.1:30000/server_info")[1])
    assert first["max_concurrency"] == 4 and first["random_range_ratio"] == 0.0 and first["accept_length"] is None
    for key in ("completed", "total_input_tokens", "total_output_tokens", "max_concurrent_requests"):
        assert first[key] == exp[key], key
    assert first["total_input_text_tokens"] == exp["total_input_tokens"] == exp["planned"][0]
    assert first["total_output_tokens_retokenized"] == exp["total_output_tokens"]
    for key in ("duration", "request_throughput", "input_throughput", "output_throughput", "total_throughput",
                "concurrency", "max_output_tokens_per_s"):
        assert close(first[key], exp[key]), key
    for metric, name in (("e2el", "e2e_latency"), ("ttft", "ttft"), ("tpot", "tpot"), ("itl", "itl")):
        assert close(first[f"mean_{name}_ms"], exp[metric]["mean"]), name
        assert close(first[f"median_{name}_ms"], exp[metric]["median"]), name
        assert close(first[f"std_{name}_ms"], exp[metric]["std"]), name
        for p in (90, 95, 99):
            assert close(first[f"p{p}_{name}_ms"], percentile(exp[metric]["values"], p)), (name, p)
    second = json.loads(lines[1])
    exp1 = expected_point("sglang", 20, 1, 128, 64, seed=42, ignore_eos=False)
    assert second["total_output_tokens"] == exp1["total_output_tokens"] < exp1["planned"][1]
    assert close(second["mean_e2e_latency_ms"], exp1["e2el"]["mean"])
    # gpubench's parser: the JSON lines, and the capture with its planned totals
    results = parse_serving_output("\n".join(lines), "sglang.jsonl")
    assert [r.tool_version for r in results] == ["0.5.14", "0.5.14"] and results[0].model_id == LLAMA
    (capture,) = parse_serving_output(out + runs[0].stderr, "sglang-c4.txt")
    assert capture.tool == "sglang.bench_serving" and capture.workload.seed == 42
    assert capture.requested_output_tokens == exp["planned"][1] and capture.workload.ignore_eos is True
    (eos,) = parse_serving_output(runs[1].stdout + runs[1].stderr, "sglang-c1.txt")
    assert eos.workload.ignore_eos is False
    assert any("outputs stopped early" in w for w in eos.warnings)


def test_sglang_failures_crash_as_the_real_ones(fleet):
    (a,) = fleet(1)
    a.set_standin(STARTUP_SECONDS=0.2, BENCH_SECONDS=0.1, FAIL_CONCURRENCY=8)
    start_sglang(a, "sglang", "--model-path", LLAMA, "--host", "0.0.0.0")
    wait_status(a, "sglang", "http://127.0.0.1:30000/health", 200)

    def bench(*args: str, env: dict | None = None):
        return exec_bench(a, "sglang", "python3", "-m", "sglang.bench_serving", "--model", LLAMA,
                          "--dataset-name", "random", "--random-input-len", "32", "--random-output-len", "8",
                          "--num-prompts", "16", "--output-file", "/tmp/out.jsonl", *args, env=env)

    assert bench("--max-concurrency", "4").returncode == 0
    failed = bench("--max-concurrency", "8")
    assert failed.returncode == 1 and "Warmup completed with 1 sequences." in failed.stdout
    assert "Serving Benchmark Result" not in failed.stdout
    assert "UserWarning: All requests failed." in failed.stderr
    assert failed.stderr.rstrip().endswith("IndexError: index -1 is out of bounds for axis 0 with size 0")
    assert len(a.docker("exec", "sglang", "cat", "/tmp/out.jsonl").stdout.splitlines()) == 1, "nothing appended"
    down = bench("--port", "30999", "--ready-check-timeout-sec", "1")
    assert down.returncode == 1 and "Waiting up to 1s for http://0.0.0.0:30999/v1/models" in down.stdout
    assert "RuntimeError: Server at http://0.0.0.0:30999/v1/models did not become ready within 1s" in down.stderr
    ambiguous = bench("--random", "5")
    assert ambiguous.returncode == 2
    assert "bench_serving.py: error: ambiguous option: --random could match" in ambiguous.stderr

    a.set_standin(STARTUP_SECONDS=0.2)
    start_sglang(a, "busy", "--model-path", LLAMA, "--port", "30000")
    assert wait_exit(a, "busy")["ExitCode"] == 1
    logs = a.docker("logs", "busy").stderr
    assert "Load weight end" in logs, "the real server binds only after loading"
    assert "ERROR:    [Errno 98] error while attempting to bind on address ('127.0.0.1', 30000): address already " \
           "in use" in logs

    a.set_standin(STARTUP_SECONDS=0.2, FAIL_AT_START="oom")
    start_sglang(a, "oom", "--model-path", LLAMA, "--port", "30002")
    assert wait_exit(a, "oom")["ExitCode"] == 1
    logs = a.docker("logs", "oom").stderr
    assert "TP0] Scheduler hit an exception: Traceback (most recent call last):" in logs and OOM in logs
    assert "Received sigquit from a child process. It usually means the child failed." in logs

    secret = "hf_standinSecret789"
    a.set_standin(STARTUP_SECONDS=0.2, REQUIRE_TOKEN=secret)
    start_sglang(a, "gated", "--model-path", LLAMA, "--port", "30003")
    assert wait_exit(a, "gated")["ExitCode"] == 1
    logs = a.docker("logs", "gated").stderr
    assert "huggingface_hub.errors.GatedRepoError: 401 Client Error." in logs
    assert "OSError: You are trying to access a gated repo." in logs
    start_sglang(a, "token", "--model-path", LLAMA, "--port", "30004", env={"HF_TOKEN": secret})
    wait_status(a, "token", "http://127.0.0.1:30004/health", 200)
    logs = a.docker("logs", "token")
    assert secret not in logs.stdout + logs.stderr
