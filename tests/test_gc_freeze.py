"""`xueji serve` keeps what start-up made out of the garbage collector's sight (gc.freeze):
a full collection then scans only what requests made, instead of pausing every request in
flight for the whole heap of modules and definitions."""

from __future__ import annotations

import gc

from fastapi.testclient import TestClient

from xueji.app import create_app


def test_the_served_app_freezes_what_start_up_made(runtime):
    gc.unfreeze()
    try:
        app = create_app(runtime.settings, runtime, prepare_on_start=False, freeze_startup=True)
        with TestClient(app):
            assert gc.get_freeze_count() > 10_000  # the modules, the app, the definitions
    finally:
        gc.unfreeze()


def test_an_app_made_without_it_freezes_nothing(runtime):
    gc.unfreeze()
    app = create_app(runtime.settings, runtime, prepare_on_start=False)
    with TestClient(app):
        assert gc.get_freeze_count() == 0
