"""Parsed specs, cached per definition version (a version's XML never changes)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Protocol

from xueji.engine.parser import build_specs
from xueji.engine.xml import parse_xml


class Versioned(Protocol):
    """What the cache needs of a stored definition version."""

    id: int
    key: str
    file_name: str
    xml: str


# Loads (file name, xml) of the definitions a definition depends on.
DependencyLoader = Callable[[Any], list[tuple[str, str]]]


class SpecCache:
    def __init__(self, size: int = 256):
        self._size = size
        self._items: OrderedDict[int, tuple] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, definition: Versioned, dependencies: DependencyLoader) -> Any:
        with self._lock:
            if definition.id in self._items:
                self._items.move_to_end(definition.id)
                return self._items[definition.id]
        documents = [(definition.file_name, parse_xml(definition.xml.encode()))]
        seen = {definition.file_name}
        for file_name, xml in dependencies(definition):
            if file_name not in seen:
                seen.add(file_name)
                documents.append((file_name, parse_xml(xml.encode())))
        specs = build_specs(definition.key, documents)
        with self._lock:
            self._items[definition.id] = specs
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return specs
