"""Provides set recognition: an unprompted set of a countable movement, told from everyday movement."""

from __future__ import annotations

import itertools
import statistics

from coach.config import RepConfig
from coach.decisions.rep_table import movement_table
from coach.decisions.reps import (
    RepCounter,
    judged_phases,
    per_side_counts,
    summarise,
)
from coach.records import COUNTABLE, Pose, RepDetail, SetCompleted
from coach.statuses import CounterStatus


class SetRecognizer:
    """Watches the pose stream with no prompt and recognises a set of a countable movement.

    Both movements are counted passively; a set is recognised once `recognise_min_reps`
    consecutive reps of one movement come rhythmically (steady period, steady range, large
    enough, clearly more than the other movement's signal moves), and it ends after
    `set_end_idle_s` without movement. Once recognised, the reps just before that keep the
    set's own rhythm, tempo and range join it, however small their absolute range.
    """

    def __init__(self, config: RepConfig) -> None:
        self.config = config
        self._table = movement_table()
        self._detectors: dict[str, RepCounter] = {}
        self._runs: dict[str, list[tuple[RepDetail, float]]] = {}
        self._active: str | None = None
        self._reset()

    @property
    def active_movement(self) -> str | None:
        """The movement of the set in progress, once recognised."""
        return self._active

    @property
    def reps_so_far(self) -> int:
        """Reps of the recognised set in progress (0 before one is recognised)."""
        return len(self._runs[self._active]) if self._active is not None else 0

    @property
    def wants_exercise_rate(self) -> bool:
        """True while a set is recognised or reps are gathering toward one.

        The recogniser works at the posture rate (5 poses/s) and counts more exactly at the
        exercise rate (15 poses/s): the loop can switch up while this is True.
        """
        return self._active is not None or any(self._runs.values())

    @property
    def status(self) -> CounterStatus | None:
        """The recognised set's counter status, for the views (None before recognition)."""
        if self._active is None:
            return None
        status = self._detectors[self._active].status
        run = [rep for rep, _ in self._runs[self._active]]
        per_side = per_side_counts(run) if self._table[self._active].sided else None
        return CounterStatus(
            movement=status.movement,
            reps=len(run),
            per_side=per_side,
            phase=status.phase,
            paused=status.paused,
            started=True,
            breath_cue=status.breath_cue,
            last_feedback=status.last_feedback,
            target_reps=None,
            view=status.view,
        )

    def update(self, pose: Pose | None, t_s: float) -> SetCompleted | None:
        """Feed one pose; returns the recognised set when it has just ended."""
        for movement, detector in self._detectors.items():
            rep = detector.update(pose, t_s)
            if rep is not None:
                raw = detector.raw_ranges()[-1]
                self._on_rep(movement, rep, raw)
        if self._active is not None:
            last_s = self._detectors[self._active].last_activity_s
            if last_s is not None and t_s - last_s > self.config.set_end_idle_s:
                return self._complete(t_s)
            # A recognised set is rhythmic: once no rep has come for longer than the slowest
            # rhythm, it is over, whatever the head does meanwhile (work, a held slouch).
            if t_s - self._runs[self._active][-1][0].end_s > self.config.recognise_max_period_s:
                return self._complete(t_s)
            return None
        for movement, run in self._runs.items():
            if run and t_s - run[-1][0].end_s > self.config.recognise_max_period_s:
                # The rhythm broke off: start afresh, including the learned neutral and range.
                self._runs[movement] = []
                self._detectors[movement] = RepCounter(movement, self.config, armed=True)
        return None

    def finish(self, t_s: float) -> SetCompleted | None:
        """End a recognised set still in progress (the stream ended); None if there is none."""
        return self._complete(t_s) if self._active is not None else None

    def _reset(self) -> None:
        self._detectors = {m: RepCounter(m, self.config, armed=True) for m in COUNTABLE}
        self._runs = {m: [] for m in COUNTABLE}
        self._active = None

    def _on_rep(self, movement: str, rep: RepDetail, raw: float) -> None:
        run = self._runs[movement]
        if self._active is not None:
            if movement == self._active:
                run.append((rep, raw))
            return
        cfg = self.config
        if run and not self._in_rhythm(run[-1][0], rep):
            run.clear()
        big_enough = raw >= self._table[movement].recognise_range(cfg)
        if not big_enough:
            run.clear()
            return
        run.append((rep, raw))
        n = cfg.recognise_min_reps
        if len(run) >= n and self._rhythmic(movement, run[-n:]):
            del run[:-n]
            self._credit_earlier(movement, run)
            self._active = movement

    def _credit_earlier(self, movement: str, run: list[tuple[RepDetail, float]]) -> None:
        """Prepend to a just-recognised run the reps before it that belong to the same set.

        The absolute size floor only guards against starting a set from everyday movement;
        once the set is known, its own reps are the measure. A first rep a little under the
        floor (the set warming up: a 0.19 span before 0.22-0.26 ones) is one of the set when
        it came at the set's period, with its phase tempo and within its range ratio.
        """
        detector = self._detectors[movement]
        counted = list(zip(detector.reps_detail, detector.raw_ranges(), strict=True))
        first = next(i for i, (rep, _) in enumerate(counted) if rep is run[0][0])
        for rep, raw in reversed(counted[:first]):
            if not self._in_rhythm(rep, run[0][0]):
                return
            if not self._rhythmic(movement, [(rep, raw), *run]):
                return
            run.insert(0, (rep, raw))

    def _in_rhythm(self, earlier: RepDetail, later: RepDetail) -> bool:
        """Whether two reps ended a set's rep period apart."""
        period_s = later.end_s - earlier.end_s
        return self.config.recognise_min_period_s <= period_s <= self.config.recognise_max_period_s

    def _rhythmic(self, movement: str, run: list[tuple[RepDetail, float]]) -> bool:
        cfg = self.config
        ends = [rep.end_s for rep, _ in run]
        periods = [b - a for a, b in itertools.pairwise(ends)]
        if periods and max(periods) > cfg.recognise_period_ratio * min(periods):
            return False
        # Steady tempo too: each judged phase (cow, cat; a lean) lasts about as long every rep.
        # Leaning from side to side at a desk can keep a period, not a tempo.
        phases = [judged_phases(movement, rep) for rep, _ in run]
        for durations in zip(*phases, strict=True):
            if max(durations) > cfg.recognise_phase_ratio * max(min(durations), 1e-3):
                return False
        raws = [raw for _, raw in run]
        if min(raws) < cfg.recognise_range_ratio * max(raws):
            return False
        # The other movement's signal must move clearly less, relative to a full rep of each.
        # Another movement counting reps over the same time must move clearly less, relative
        # to a full rep of each (a side bend seen from the side is not cat-cow). Its raw
        # signal span is not compared: a side bend with an arm overhead sways the head, yet
        # the cat-cow counter rightly counts nothing.
        own_share = statistics.median(raws) / self._table[movement].nominal_range(cfg)
        for other, spec in self._table.items():
            if other == movement:
                continue
            ranges = self._detectors[other].ranges_between(run[0][0].start_s, run[-1][0].end_s)
            if not ranges:
                continue
            other_share = statistics.median(ranges) / spec.nominal_range(cfg)
            if own_share < cfg.recognise_dominance * other_share:
                return False
        return True

    def _complete(self, t_s: float) -> SetCompleted:
        movement = self._active
        assert movement is not None
        run = [rep for rep, _ in self._runs[movement]]
        per_side = per_side_counts(run) if self._table[movement].sided else None
        done = SetCompleted(
            t_s=t_s,
            movement=movement,
            reps=len(run),
            start_s=run[0].start_s,
            end_s=run[-1].end_s,
            per_side=per_side,
            reps_detail=tuple(run),
            feedback=tuple(summarise(movement, run, self.config)),
            recognised=True,
        )
        self._reset()
        return done
