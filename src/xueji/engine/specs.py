"""Parsed specs, cached per definition version (a version's XML never changes), and the
forms a version pins (a form row's content never changes either)."""

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
        self._forms: OrderedDict[int, Any] = OrderedDict()
        self._lock = threading.Lock()

    def form(self, form_id: int, load: Callable[[int], Any]) -> Any:
        """The content of form row `form_id` (read-only: callers copy before changing it)."""
        with self._lock:
            if form_id in self._forms:
                self._forms.move_to_end(form_id)
                return self._forms[form_id]
        content = load(form_id)
        with self._lock:
            self._forms[form_id] = content
            while len(self._forms) > self._size * 4:
                self._forms.popitem(last=False)
        return content

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
