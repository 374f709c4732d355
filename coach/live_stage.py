"""Provides the live analysis stage: the analyzer, plus the commands only a running coach takes."""

from __future__ import annotations

from collections.abc import Callable

from coach.analyzer import Analyzer
from coach.config import Config
from coach.decisions.analysis_rate import LookPlan
from coach.records import (
    PROMPT_COMMANDS,
    Command,
    CountableMovement,
    Interruption,
    PoseSample,
    Snapshot,
)

GUIDED_SETS = {
    Command.START_CAT_COW: CountableMovement.CAT_COW,
    Command.START_LATERAL_FLEXION: CountableMovement.LATERAL_FLEXION,
}


class LiveStage:
    """Hands prompt commands to the analyzer; starts guided sets and recalibrates itself.

    Calibrating again starts a fresh analyzer that records a new neutral from the next
    seconds (what `coach calibrate` does), so the posture is judged against it.
    """

    def __init__(
        self,
        analyzer: Analyzer,
        recalibrating: Callable[[], Analyzer],
        on_calibrated: Callable[[Analyzer, PoseSample], None],
        pause_for_s: Callable[[], float | None] = lambda: None,
        reload_config: Callable[[], Config | None] = lambda: None,
    ) -> None:
        """`pause_for_s`: how long a pause asked now lasts (None: the configured pause);
        `reload_config`: the settings read again (None: unchanged or unreadable, said)."""
        self._reload_config = reload_config
        self.analyzer = analyzer
        self._pause_for_s = pause_for_s
        self._recalibrating = recalibrating
        self._on_calibrated = on_calibrated
        self._calibrating = False
        self._pending: list[Command] = []

    @property
    def look_plan(self) -> LookPlan:
        """The analyzer's plan; a set or calibration asked for here looks closely at once."""
        return self.analyzer.look_plan

    def command(self, command: Command) -> None:
        """Queue a command: the analyzer's own go straight to it, a reload of the settings is
        applied at once, the rest wait for a sample."""
        if command is Command.PAUSE:
            self.analyzer.command(command, for_s=self._pause_for_s())
        elif command is Command.RELOAD_CONFIG:  # needs no sample: applied now
            config = self._reload_config()
            if config is not None:
                self.analyzer.reconfigure(config)
        elif command in PROMPT_COMMANDS:
            self.analyzer.command(command)
        else:
            self._pending.append(command)

    def interrupted(self, interruption: Interruption) -> None:
        """A stretch with no frames that the next sample ends (see `Analyzer.interrupted`)."""
        self.analyzer.interrupted(interruption)

    def update(self, sample: PoseSample) -> Snapshot:
        """Apply waiting commands at this sample's time, then analyse it."""
        for command in self._pending:
            if command is Command.CALIBRATE:
                self.analyzer = self._recalibrating()
                self._calibrating = True
            elif command in GUIDED_SETS and not self.analyzer.counting:
                self.analyzer.start_guided(GUIDED_SETS[command], sample.t_s)
        self._pending.clear()
        snapshot = self.analyzer.update(sample)
        if self._calibrating and snapshot.calibrating is None:
            self._calibrating = False
            if self.analyzer.calibrated_neutral is not None:
                self._on_calibrated(self.analyzer, snapshot.sample)
        return snapshot
