"""A small thread-safe LRU keyed by objects' identities: for results derived from objects the
caller hands back unchanged rerun after rerun (a run's `Trajectory`, a cached grid array), whose
contents are costly to hash or cannot be hashed at all (NumPy arrays).

An entry holds its objects, so their ids cannot be reused by other objects while it lives; a
lookup also checks that the objects are the very ones stored. Values are shared: read-only.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any


class IdentityCache:
    def __init__(self, size: int) -> None:
        self.size = size
        self._data: OrderedDict[tuple, tuple[tuple, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_compute(self, objs: tuple, key: Hashable, build: Callable[[], Any]) -> Any:
        """`build()` cached under (these very objects, `key`)."""
        full = (*map(id, objs), key)
        with self._lock:
            hit = self._data.get(full)
            if hit is not None and all(a is b for a, b in zip(hit[0], objs, strict=True)):
                self._data.move_to_end(full)
                return hit[1]
        value = build()  # outside the lock: two threads may both build; both agree
        with self._lock:
            self._data[full] = (objs, value)
            self._data.move_to_end(full)
            while len(self._data) > self.size:
                self._data.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._data)
