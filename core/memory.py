"""Python's cyclic garbage collector paused around work that allocates millions of objects and keeps most
of them alive until it ends: a payment run computed (rows, facts, lines, explanations) and a long print
document rendered (WeasyPrint's boxes, styles and Pango layouts, one set per table cell).

The collector, triggered by allocation counts, traverses those live objects again and again and frees
little: 23 of a city's 43 CPU seconds of 低保 (benchmarks/README.md), 15 % of the CPU of a 44-page 张榜名单.
Neither makes reference cycles worth collecting meanwhile — reference counting frees what is dropped on
the way, as before. The switch is process-wide: whatever cycle another thread makes meanwhile is collected
once the collector is back on (only if it was on before)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def freeze_loaded_objects() -> int:
    """Move every object alive now into the collector's permanent generation (`gc.freeze`) and return how
    many: for a web worker once Django and the URL configuration (every view module) are loaded. Those
    objects — modules, classes, functions, URL patterns, settings — live as long as the process; a full
    collection traversed all ~160,000 of them again, in the middle of whichever request triggered it:
    5.7–6.2 ms of ~52–66 ms of CPU per request of the bench's pages, 1.3–1.8 ms frozen at load
    (benchmarks/README.md). What a request allocates is still collected as before."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
