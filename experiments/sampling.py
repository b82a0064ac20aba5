"""A measurement taken every few tenths of a second in a background thread while a trial runs."""

from __future__ import annotations

import threading


class PeriodicSampler:
    """Calls :meth:`sample` at the start, every ``interval`` seconds, and at the end.

    Subclasses implement :meth:`sample` (and may override :meth:`begin`). With
    ``interval`` None nothing is sampled. The thread holds the GIL for well
    under a millisecond per sample, so it steals little from the work measured.
    """

    def __init__(self, interval: float | None):
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=type(self).__name__, daemon=True)

    def begin(self) -> None:
        """Called once before the first sample; by default it takes one."""
        self.sample()

    def sample(self) -> None:
        raise NotImplementedError

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def __enter__(self):
        if self.interval:
            self.begin()
            self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.interval:
            self._stop.set()
            self._thread.join()
            self.sample()  # the tail since the last sample: a short trial still gets one
