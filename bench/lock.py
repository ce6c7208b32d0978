"""The heavy-run lock: timed runs hold $LOGSWAP_HEAVY_LOCK (default /tmp/logswap-heavy.lock; empty: none), so
other heavy jobs on the machine neither disturb the figures nor are disturbed."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator


@contextlib.contextmanager
def heavy_lock() -> Iterator[None]:
    path = os.environ.get("LOGSWAP_HEAVY_LOCK", "/tmp/logswap-heavy.lock")
    if not path:
        yield
        return
    with open(path, "a") as handle:
        print(f"waiting for {path} (other heavy jobs)...", flush=True)
        fcntl.flock(handle, fcntl.LOCK_EX)
        print(f"holding {path}", flush=True)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
