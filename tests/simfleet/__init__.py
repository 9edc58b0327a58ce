"""simfleet: a simulated fleet of GPU hosts on this machine, for tests and benchmarks.

Each host is real except its GPU: an OpenSSH server on 127.0.0.(i+2) in its own network namespace, its own Docker
engine holding stand-in TGI, vLLM and SGLang images (made with `docker import` from busybox-static; they behave like
the real servers and their benchmarks: TGI and `text-generation-benchmark` in tests/simfleet/standin/README.md,
`vllm serve`/`vllm bench serve` and `sglang.launch_server`/`sglang.bench_serving` in
tests/simfleet/standin_serving/README.md), a stand-in `nvidia-smi` and a weights cache folder. Needs root,
openssh-server, docker.io and busybox-static (scripts/setup.sh --test installs them).

Import from `tests.simfleet` only; the names below are the stable API, the submodules are not.

Pytest (tests/conftest.py has `pytest_plugins = ["tests.simfleet.fixtures"]`):

    def test_something(fleet, tmp_path):          # fixture: a FleetFactory over the session's Fleet
        a, b = fleet(2)                          # Hosts gpu-a, gpu-b, reset for this test
        a.set_standin(STARTUP_SECONDS=3, FAIL_BATCH=16)   # knobs: standin/README.md, standin_serving/README.md
        b.set_gpus(name="NVIDIA A100-SXM4-80GB", count=4)
        out = collect(fleet, inventory(tmp_path, [a, b]), tmp_path / "data")   # `gpubench collect`, a real process
        assert out.returncode == 0 and fleet.gpubench_containers() == {}

Engines start once per session, on first use, and are shared; each test gets its hosts reset and its containers
removed after it (fixture `fleet_pool` is the session's Fleet).

Outside pytest (bench/):

    fleet = Fleet()                              # hosts start on first use; always close()
    try:
        hosts = fleet.hosts(4)
        out = collect(fleet, inventory(tmp, hosts), tmp / "data", token=None)
    finally:
        fleet.close()

The fleet
- `Fleet(root=None, port=2222)`: hosts(n) -> the first n Hosts (gpu-a, gpu-b, ...), started if needed; down_host()
  (in ssh_config and known_hosts, nothing listens); ssh_config, known_hosts, client_key (paths); fabric_config();
  connect(alias) (Fabric, known_hosts enforced); gpubench_containers() -> {alias: [names]} of containers labelled
  `gpubench`; close().
- `FleetFactory(fleet)`: what the `fleet` fixture is. factory(n=1) -> n Hosts, reset the first time this factory
  hands them out; down_host(), ssh_config, known_hosts, client_key, fabric_config(), connect(alias),
  gpubench_containers() as Fleet; cleanup() (sshd back up, containers removed on the hosts it handed out).
- `Host`: alias (its name in ssh_config), address, port, ssh_config, known_hosts, client_key, docker_host (the
  DOCKER_HOST of its SSH sessions), docker_socket, cache_dir (mount it on /data for TGI; anywhere for vLLM and SGLang,
  e.g. their Hugging Face cache /root/.cache/huggingface), bin_dir, hostname, up;
  docker(*args, check=True, input=None, timeout=120, text=True) (the docker CLI against its engine),
  gpubench_containers(), connect(), stop_sshd(kill_sessions=True), start_sshd(), set_gpus(name=, count=,
  memory_mib=, driver=, cuda=), remove_nvidia_smi(), set_standin(**knobs), reset().
- `STANDIN_IMAGE`: the stand-in TGI's tag; `IMAGE_TAGS`: every tag it carries (also the collector's pinned default).
- `VLLM_IMAGE` (`vllm/vllm-openai:v0.33.0-standin`), `VLLM_IMAGE_TAGS` (also `vllm/vllm-openai:v0.33.0`, the
  collector's pinned default): ENTRYPOINT `vllm serve`, and `vllm bench serve` in the image.
- `SGLANG_IMAGE` (`lmsysorg/sglang:v0.5.14-standin`), `SGLANG_IMAGE_TAGS` (also `lmsysorg/sglang:v0.5.14`): no
  entrypoint; `python3 -m sglang.launch_server ...` and `python3 -m sglang.bench_serving ...`.
- Knobs shared by the three (one `standin.conf` per host): STARTUP_SECONDS, FAIL_AT_START, REQUIRE_TOKEN; TGI's
  RUN_SECONDS, HANG, FAIL_BATCH, TGI_VERSION; the serving clients' BENCH_SECONDS, FAIL_CONCURRENCY.

Running gpubench against it
- `TOKEN`: a recognizable fake Hugging Face token (so a leak is easy to find).
- `inventory(tmp_path, hosts, *, model=..., batch_sizes=(1, 2, 4), runs=3, startup_timeout_s=60,
  benchmark_timeout_s=60, **{alias: overrides})` -> path of a hosts.yaml for those hosts.
- `collect_command(fleet, inventory_path, data, *extra)` -> argv of `gpubench collect` with the fleet's ssh_config
  and known_hosts (`fleet`: a Fleet or a FleetFactory).
- `collect(fleet, inventory_path, data, *extra, token=TOKEN, timeout=300, env=None)` -> CompletedProcess of that
  command (HF_TOKEN set to `token`, or unset if None).
- `benchmark_running(host)`: whether text-generation-benchmark runs in a gpubench container of the host.
- `files_containing(folder, needle)` -> the files under folder whose bytes contain needle.

Fault cases (tests/faults/test_faults.py asserts them, bench/faults.py tabulates them)
- `CASES`: list of `Case(name, expected, run, hosts)`; `case.run(fleet, tmp_path)` -> `Outcome(observed,
  as_expected, containers_left, rows_lost)`.

A terminal for full-screen programs
- `PtyProcess(argv, rows=40, cols=160, env=None)`: a command on a real pseudo-terminal, its screen read with pyte
  (read(), write(), resize(), wait_for(predicate, timeout, what), text(), wait_exit(), close(); a context manager).
- `ALTERNATE_SCREEN_OFF`: the escape sequence a full-screen program writes when it leaves the alternate screen.
"""

from .collect import TOKEN, benchmark_running, collect, collect_command, files_containing, inventory
from .faults import CASES, Case, Outcome
from .fleet import Fleet, FleetFactory, Host
from .standin import IMAGE_TAGS, SGLANG_IMAGE, SGLANG_IMAGE_TAGS, STANDIN_IMAGE, VLLM_IMAGE, VLLM_IMAGE_TAGS
from .terminal import ALTERNATE_SCREEN_OFF, PtyProcess

__all__ = [
    "ALTERNATE_SCREEN_OFF", "CASES", "IMAGE_TAGS", "SGLANG_IMAGE", "SGLANG_IMAGE_TAGS", "STANDIN_IMAGE", "TOKEN",
    "VLLM_IMAGE", "VLLM_IMAGE_TAGS",
    "Case", "Fleet", "FleetFactory", "Host", "Outcome", "PtyProcess",
    "benchmark_running", "collect", "collect_command", "files_containing", "inventory",
]
