"""What the host says about its GPUs, read from `nvidia-smi` (model, count, memory, driver and CUDA versions)."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

from collector.data.errors import GpubenchError

QUERY = ["nvidia-smi", "--query-gpu=index,name,memory.total,driver_version", "--format=csv,noheader,nounits"]
CUDA_VERSION = re.compile(r"CUDA Version:\s*([0-9.]+)")


@dataclass(frozen=True)
class GpuInventory:
    names: tuple[str, ...]
    memory_mib: tuple[int | None, ...]
    driver_version: str | None
    cuda_version: str | None

    @property
    def count(self) -> int:
        return len(self.names)

    @property
    def model(self) -> str:
        """The GPU model when all are alike; mixed hosts are named by their first GPU, with a note."""
        return self.names[0] if self.names else ""


def parse_gpu_query(text: str, banner: str, host: str) -> GpuInventory:
    names, memory, drivers, other = [], [], set(), []
    for row in csv.reader(io.StringIO(text)):
        if not row or not "".join(row).strip():
            continue
        if len(row) != 4 or not row[0].strip().isdigit():  # not a GPU row: a shell's banner, a warning
            other.append(",".join(row))
            continue
        _, name, mem, driver = (c.strip() for c in row)
        names.append(name)
        memory.append(int(mem) if mem.isdigit() else None)
        drivers.add(driver)
    if not names:
        raise GpubenchError(f"{host}: nvidia-smi lists no GPU" + (f" ({other[-1][:160]!r})" if other else ""))
    cuda = CUDA_VERSION.search(banner)
    return GpuInventory(tuple(names), tuple(memory), ",".join(sorted(drivers)) or None,
                        cuda.group(1) if cuda else None)
