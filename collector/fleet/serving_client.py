"""One point of a serving sweep: the benchmark client runs in the server's container (docker exec, no terminal),
its printed output is captured as it comes, and its result file is copied out (docker cp)."""

from __future__ import annotations

import select
import struct
import threading
import time
from dataclasses import dataclass

import docker

from collector.data.errors import GpubenchError
from collector.fleet.containers import read_file, remove_container
from collector.fleet.docker_api import explain
from collector.fleet.readiness import Cancelled

MAX_CAPTURE_BYTES = 16 * 1024 * 1024  # a client printing more than this is not printing results


@dataclass
class PointOutput:
    capture: bytes  # stdout and stderr as they came
    result: bytes | None  # the result file (None when the client wrote none)
    exit_code: int | None
    timed_out: bool = False


def run_point(client: docker.DockerClient, container: str, argv: list[str], result_path: str, *,
              timeout_s: float, cancel: threading.Event, on_line) -> PointOutput:
    """Run the client until it exits (or the time limit), showing its last printed line as it goes."""
    try:
        exec_id = client.api.exec_create(container, argv, stdout=True, stderr=True)["Id"]
        stream = client.api.exec_start(exec_id, socket=True)
    except docker.errors.APIError as e:
        raise GpubenchError(f"cannot start {' '.join(argv[:3])} in {container}: {explain(e)}") from None
    sock = getattr(stream, "_sock", stream)
    reader = _FrameReader(on_line)
    clock = _Clock(timeout_s, cancel)
    timed_out = False
    try:
        while True:
            if clock.expired():
                timed_out = True
                break
            readable, _, _ = select.select([sock], [], [], 0.25)
            if readable:
                data = sock.recv(65536)
                if not data:
                    break
                reader.feed(data)
                if len(reader.output) > MAX_CAPTURE_BYTES:
                    raise GpubenchError(f"{argv[0]} printed more than {MAX_CAPTURE_BYTES >> 20} MiB: stopped")
    finally:
        sock.close()
    exit_code = None if timed_out else client.api.exec_inspect(exec_id).get("ExitCode")
    try:
        result = read_file(client, container, result_path)
    except GpubenchError:
        result = None
    return PointOutput(bytes(reader.output), result, exit_code, timed_out)


def run_point_in_client(client: docker.DockerClient, spec: dict, argv: list[str], result_path: str, *,
                        timeout_s: float, cancel: threading.Event, on_line) -> PointOutput:
    """Run the client in a container of its own image (a tool the server's image does not ship), on the host's
    network so that it reaches the server's port; the container is removed whatever happens."""
    name = spec["name"]
    try:
        container = client.containers.run(spec["image"], argv[1:], entrypoint=[argv[0]], name=name, detach=True,
                                          network_mode="host", labels=spec["labels"],
                                          environment=spec["environment"], volumes=spec["volumes"])
    except docker.errors.APIError as e:
        raise GpubenchError(f"cannot start the benchmark client {spec['image']}: {explain(e)}") from None
    clock = _Clock(timeout_s, cancel)
    timed_out = False
    try:
        while True:
            container.reload()
            if container.status == "exited":
                break
            if clock.expired():
                timed_out = True
                break
            last = container.logs(tail=1).decode("utf-8", "replace").strip()
            if last:
                on_line(last.replace("\r", "\n").splitlines()[-1][-160:])
            cancel.wait(0.5)
        capture = container.logs()
        exit_code = None if timed_out else container.attrs["State"].get("ExitCode")
        try:
            result = read_file(client, name, result_path)
        except GpubenchError:
            result = None
    finally:
        remove_container(client, name)
    return PointOutput(capture, result, exit_code, timed_out)


class _Clock:
    """A point's time limit, and the fleet's stop flag (Ctrl-C, SIGTERM, SIGHUP) checked on every look."""

    def __init__(self, timeout_s: float, cancel: threading.Event):
        self.deadline, self.cancel = time.monotonic() + timeout_s, cancel

    def expired(self) -> bool:
        if self.cancel.is_set():
            raise Cancelled()
        return time.monotonic() > self.deadline


class _FrameReader:
    """docker's multiplexed stream (no terminal): frames of [stream, 0, 0, 0, size (4 bytes)] + payload."""

    def __init__(self, on_line):
        self.on_line = on_line
        self.buffer = b""
        self.output = bytearray()

    def feed(self, data: bytes) -> None:
        self.buffer += data
        while len(self.buffer) >= 8:
            _, size = struct.unpack(">BxxxL", self.buffer[:8])
            if len(self.buffer) < 8 + size:
                return
            payload, self.buffer = self.buffer[8:8 + size], self.buffer[8 + size:]
            self.output += payload
            last = payload.replace(b"\r", b"\n").strip().rsplit(b"\n", 1)[-1]
            if last.strip():
                self.on_line(last.decode("utf-8", "replace")[-160:])
