"""syncws/aio/caller.py: warnings name the application's line, not syncws's or asyncio's."""

from __future__ import annotations

import asyncio
import warnings

from syncws.aio.caller import warn_at_caller


def _application_call() -> None:
    warn_at_caller("from deep inside", UserWarning)  # this module is not syncws: it is "the application"


def test_names_the_first_frame_outside_syncws() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _application_call()
    assert [(w.filename, w.category) for w in caught] == [(__file__, UserWarning)]
    with open(__file__) as source:
        assert "warn_at_caller" in source.read().splitlines()[caught[0].lineno - 1]


def test_from_a_coroutine_run_by_the_loop() -> None:
    async def main() -> None:
        _application_call()

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        asyncio.run(main())
    assert [w.filename for w in caught] == [__file__]
