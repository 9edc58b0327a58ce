"""Settings read from the environment: every variable gpubench reads is named here, and read only here."""

from __future__ import annotations

import os
from pathlib import Path

DATA_ENV = "GPUBENCH_DATA"  # the data folder (default: ./data)
SITE_URL_ENV = "GPUBENCH_SITE_URL"  # the public URL of the site, for one build
SITE_EMPTY_ENV = "GPUBENCH_SITE_EMPTY"  # "1": pages without tables and charts (the build benchmark's floor)
BUNDLE_CACHE_ENV = "GPUBENCH_CACHE"  # where the vega-embed bundle is cached between builds
TOKEN_ENVS = ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN")  # Hugging Face token, first one set wins
DATA_DIR_NAME = "data"


def data_dir(base: Path | None = None) -> Path:
    """The data folder: $GPUBENCH_DATA, else data/ in `base` (the project root, for the site) or the working
    directory (for the command line)."""
    env = os.environ.get(DATA_ENV)
    if env:
        return Path(env).expanduser().resolve()
    return ((base or Path.cwd()) / DATA_DIR_NAME).resolve()


def hf_token() -> str | None:
    """The Hugging Face token from the environment, if any (never from a file or a flag: it must stay off disk and
    off command lines)."""
    for name in TOKEN_ENVS:
        if os.environ.get(name):
            return os.environ[name]
    return None


def site_empty() -> bool:
    return os.environ.get(SITE_EMPTY_ENV) == "1"


def bundle_cache_dir() -> Path:
    env = os.environ.get(BUNDLE_CACHE_ENV)
    if env:
        return Path(env)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "gpubench"
