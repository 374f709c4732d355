"""Provides rep counting for seated cat-cow and lateral flexion, with form coaching and set recognition."""

from __future__ import annotations

import itertools
import math
import statistics
from collections import deque
from dataclasses import dataclass

import numpy as np

from coach.decisions.rep_coaching import RESET_TO_NEUTRAL, rep_remarks, set_summary
from coach.decisions.rep_config import RepConfig
from coach.decisions.rep_table import Evidence, RepMovement, Visit, movement_table, rep_movement
from coach.events import RepDetail, SetCompleted
from coach.features.posture import PostureCues, measure_cues, median_cues, posture_metrics
from coach.features.rep_signals import (
    MOVEMENTS,
    ViewContext,
    head_turn,
    landmarks_visible,
    view_context,
)
from coach.features.view import ViewDetector
from coach.records import Pose

__all__ = [
    "CounterStatus",
    "RepConfig",
    "RepCounter",
    "SetRecognizer",
    "judged_phases",
    "per_side_counts",
    "summarise",
]


@dataclass(frozen=True)
class CounterStatus:
    """What a rep counter shows at one moment."""

    movement: str
    reps: int
    """Reps counted (both sides together for lateral flexion)."""
    per_side: dict[str, int] | None
    """Lateral flexion: reps per side ("left", "right": the person's own sides)."""
    phase: str
    """"neutral", "cow", "cat", "left" or "right"."""
    paused: bool
    """True while the landmarks cannot be trusted (nobody, hidden, head turned away)."""
    started: bool
    """False while an armed counter waits for the first clear phase."""
    breath_cue: str
    """What to do with the breath right now."""
    last_feedback: str | None
    """The latest coaching remark (tempo, range, start posture)."""
    target_reps: int | None
    """Reps wanted in the set (per side for lateral flexion), if any."""
    view: str | None = None
    """The camera view the counter reads ("front", "oblique", "side")."""


# Tracking gaps longer than this restart the signal filters (a frame or two do not).
_RESEED_GAP_S = 0.25
# How much of the stream before a plausible neutral is kept to be judged against it.
_UNJUDGED_S = 30.0
# Samples the noise estimate looks at (about a second at 15 poses/s).
_NOISE_WINDOW_FRAMES = 15
# A signal this close (in time, at its speed) to a pole when tracking stops was entering it.
_HEADING_S = 0.2


@dataclass
class _Sample:
    t_s: float
    value: float
    """Signal minus the neutral in force at that time."""


class _PoleTracker:
    """Baseline, hysteresis and minimum durations on one movement's signal: emits pole visits."""

    def __init__(self, spec: RepMovement, config: RepConfig) -> None:
        self.spec = spec
        self.config = config
        self.gate = spec.gate(config)
        self.quiet = spec.quiet(config)
        self.neutral_limit = spec.neutral_limit(config)
        self.context: ViewContext | None = None
        self.locks = 0
        """How many times the view (and so the units) was taken afresh."""
        self.baseline: float | None = None
        self.baseline_turn: float | None = None
        self.baseline_evidence: Evidence | None = None
        self.visit: Visit | None = None
        self.peaks: dict[int, deque[float]] = {
            1: deque(maxlen=config.usual_window_reps),
            -1: deque(maxlen=config.usual_window_reps),
        }
        self.samples: deque[_Sample] = deque()
        self._raw: deque[float] = deque(maxlen=max(1, config.smoothing_samples))
        self._recent: deque[tuple[float, float, Evidence]] = deque()  # (t_s, smoothed, evidence)
        # Before a plausible neutral is known: (t_s, smoothed, evidence, gap_s), judged once
        # it is, so a set that starts at once counts from its first rep.
        self._unjudged: deque[tuple[float, float, Evidence, float]] = deque()
        self._views = ViewDetector(window=15)
        self._other_view_since_s: float | None = None
        self._last_seen_s: float | None = None
        self._gap_start_s: float | None = None
        self.gaps: deque[tuple[float, float]] = deque(maxlen=8)
        self.paused = True
        self._last_follow_s: float | None = None
        self._smoothed: float | None = None
        self._waiting_since_s: float | None = None
        self._head_away = False
        self.noise = 0.0
        """Spread of the raw signal at rest (standard deviation, signal units)."""
        self._raw_recent: deque[float] = deque(maxlen=_NOISE_WINDOW_FRAMES)
        self._armed: dict[int, bool] = {1: True, -1: True}
        self.quiet_cues: deque[tuple[float, PostureCues]] = deque()
        self.want_cues = False

    # --- thresholds -------------------------------------------------------------------------

    def usual(self, pole: int) -> float | None:
        """The user's usual excursion toward a pole (median of recent peaks), if known."""
        own = self.peaks[pole]
        if own:
            return float(statistics.median(own))
        other = self.peaks[-pole]
        return float(statistics.median(other)) if other else None

    @property
    def gate_now(self) -> float:
        """The absolute gate, raised when the landmarks are noisier than usual."""
        return max(self.gate, self.config.noise_gate_factor * self.noise)

    def enter_level(self, pole: int) -> float:
        usual = self.usual(pole)
        gate = self.gate_now
        return max(gate, self.config.enter_fraction * usual) if usual else gate

    def exit_level(self, pole: int) -> float:
        usual = self.usual(pole)
        floor = self.config.exit_gate_fraction * self.gate_now
        return max(floor, self.config.exit_fraction * usual) if usual else floor

    # --- input ------------------------------------------------------------------------------

    def pause(self, t_s: float) -> None:
        """No trustworthy signal at `t_s`: hold everything, remember when the gap began."""
        if not self.paused:
            self._gap_start_s = self._last_seen_s if self._last_seen_s is not None else t_s
        self.paused = True

    def update(self, pose: Pose | None, t_s: float) -> list[Visit]:
        """Feed one pose; returns the pole visits that ended (confirmed ones only)."""
        if pose is None:
            self.pause(t_s)
            return []
        view = self._views.update(pose)
        if self.context is None or self._view_changed(view, t_s):
            self._relock(pose, t_s)
        context = self.context
        assert context is not None
        if not landmarks_visible(pose, self.spec.landmarks(context), self.config.min_visibility):
            self.pause(t_s)
            return []
        value = self.spec.signal(pose, context)
        if value is None or self._head_turned(pose, context):
            self.pause(t_s)
            return []
        gap_s = self._resume(t_s)
        if gap_s > 0.0:
            self._raw_recent.clear()
        self._raw_recent.append(value)
        self._raw.append(value)
        median = float(statistics.median(self._raw))
        if self._smoothed is None:
            self._smoothed = median
        else:
            self._smoothed += self.config.smoothing_alpha * (median - self._smoothed)
        smoothed = self._smoothed
        self._last_seen_s = t_s
        evidence = self.spec.evidence(pose, context, self.config)
        self._recent.append((t_s, smoothed, evidence))
        while self._recent and self._recent[0][0] < t_s - self.config.baseline_window_s:
            self._recent.popleft()
        if self.want_cues:
            self._keep_cues(pose, t_s)
        if self.baseline is None:
            if self.neutral_limit is not None:
                self._unjudged.append((t_s, smoothed, evidence, gap_s))
                while self._unjudged and self._unjudged[0][0] < t_s - _UNJUDGED_S:
                    self._unjudged.popleft()
            if not self._take_baseline(pose, context, t_s):
                return []
            if self._unjudged:
                # A pole counts only once the signal has been seen near neutral: a move
                # already under way when the buffer began (after a view change) is no rep.
                self._armed = {1: False, -1: False}
                ended: list[Visit] = []
                for args in self._unjudged:
                    ended += self._step(*args)
                self._unjudged.clear()
                self._follow_baseline(pose, context, t_s)
                return ended
        ended = self._step(t_s, smoothed, evidence, gap_s)
        self._follow_baseline(pose, context, t_s)
        return ended

    def _step(self, t_s: float, smoothed: float, evidence: Evidence, gap_s: float) -> list[Visit]:
        """Judge one smoothed signal value against the neutral; returns the visits that ended."""
        assert self.baseline is not None and self.baseline_evidence is not None
        excursion = smoothed - self.baseline
        self.samples.append(_Sample(t_s, excursion))
        while self.samples and self.samples[0].t_s < t_s - 60.0:
            self.samples.popleft()
        ended = self._zones(excursion, t_s, gap_s)
        if self.visit is not None:
            self.visit.evidence.append(
                tuple(v - n for v, n in zip(evidence, self.baseline_evidence, strict=True))
            )
        kept: list[Visit] = []
        for visit in ended:
            # Visits another movement explains (arms, rotation, a side bend) neither count
            # nor teach the usual range.
            if self.spec.confirms(visit, self.config):
                self.peaks[visit.pole].append(abs(visit.peak))
                kept.append(visit)
        return kept

    def _take_baseline(self, pose: Pose, context: ViewContext, t_s: float) -> bool:
        """Take the neutral from a quiet second (or any second after waiting); True once taken."""
        if self._waiting_since_s is None:
            self._waiting_since_s = t_s
        waited_s = t_s - self._waiting_since_s
        prior = self.neutral_limit is not None and waited_s < self.config.neutral_prior_wait_s
        # With a prior on where the neutral lies, a shorter quiet stretch will do (the rest
        # between two bends can be brief); the prior keeps a held bend out.
        window_s = self.config.prior_window_s if prior else self.config.baseline_window_s
        recent = [r for r in self._recent if r[0] >= t_s - window_s - 1e-9]
        values = [v for _, v, _ in recent]
        if recent[-1][0] - recent[0][0] < 0.6 * window_s:
            return False
        quiet = max(values) - min(values) <= self.quiet
        level = float(statistics.median(values))
        if prior:
            # Only a quiet stretch near level: a held bend is quiet too, and a second in
            # motion may be a bend's way back.
            if not quiet or self.neutral_limit is None or abs(level) > self.neutral_limit:
                return False
        elif not quiet and waited_s < self.config.baseline_wait_s:
            return False
        self.baseline = level
        self.baseline_evidence = self._recent_evidence(window_s)
        self.baseline_turn = head_turn(pose, context)
        self._waiting_since_s = None
        self.noise = self._raw_noise()
        return True

    def _recent_evidence(self, window_s: float | None = None) -> Evidence:
        """The median of each evidence measurement over the last second, or `window_s` (NaN
        where never seen)."""
        last_s = self._recent[-1][0]
        rows = np.array(
            [
                e
                for t_s, _, e in self._recent
                if window_s is None or t_s >= last_s - window_s - 1e-9
            ],
            dtype=np.float64,
        )
        out: list[float] = []
        for column in rows.T:
            seen = column[~np.isnan(column)]
            out.append(float(np.median(seen)) if seen.size else math.nan)
        return tuple(out)

    def _raw_noise(self) -> float:
        """Spread (standard deviation) of the raw signal over the last second at rest.

        Smoothed landmark jitter wanders slowly rather than flickering, so the spread, not
        the frame-to-frame difference, is what a gate must clear.
        """
        raw = list(self._raw_recent)
        if len(raw) < 4:
            return self.noise
        return float(statistics.pstdev(raw))

    def _view_changed(self, view: str, t_s: float) -> bool:
        assert self.context is not None
        if view == self.context.view:
            self._other_view_since_s = None
            return False
        if self._other_view_since_s is None:
            self._other_view_since_s = t_s
        return t_s - self._other_view_since_s >= self.config.view_switch_s

    def _relock(self, pose: Pose, t_s: float) -> None:
        # A new view measures in new units: take a new neutral, forget the phase in progress.
        self.locks += 1
        self.context = view_context(pose, self.config.min_visibility)
        self.baseline = None
        self.baseline_turn = None
        self.baseline_evidence = None
        self._unjudged.clear()
        self.samples.clear()
        self.visit = None
        self._raw.clear()
        self._smoothed = None
        self._recent.clear()
        self._waiting_since_s = None
        self._other_view_since_s = None
        for peaks in self.peaks.values():
            peaks.clear()

    def _head_turned(self, pose: Pose, context: ViewContext) -> bool:
        # The head-based cat-cow signal misreads a turned face; lateral flexion reads the
        # shoulders and the ear line, which a turn leaves alone.
        if not self.spec.pauses_on_head_turn or self.baseline_turn is None:
            return False
        turn = head_turn(pose, context)
        if turn is None:
            return True
        if context.view == "side":
            if self.baseline_turn <= 1e-6:
                return False
            change = abs(turn / self.baseline_turn - 1.0)
            limit = self.config.max_side_head_turn
        else:
            change = abs(turn - self.baseline_turn)
            limit = self.config.max_head_turn
        # Hysteresis: once turned away, wait until the face is nearly back (the signal is
        # distorted all the way through the turn).
        if self._head_away:
            self._head_away = change > 0.5 * limit
        else:
            self._head_away = change > limit
        return self._head_away

    def _resume(self, t_s: float) -> float:
        """Close a tracking gap; returns its length (0 when there was none)."""
        gap_s = 0.0
        if self.paused and self._gap_start_s is not None:
            gap_s = t_s - self._gap_start_s
            self.gaps.append((self._gap_start_s, t_s))
            # Unseen, the signal may have crossed the neutral band: re-arm both poles.
            self._armed = {1: True, -1: True}
            if gap_s > _RESEED_GAP_S:
                # Filtered values from before the gap would drag the first new ones back.
                self._raw.clear()
                self._smoothed = None
            if gap_s > self.config.max_bridge_s:
                # Too long to know what happened: drop the phase in progress, keep the count.
                self.visit = None
                self._recent.clear()
                gap_s = 0.0
        self.paused = False
        self._gap_start_s = None
        return gap_s

    def _keep_cues(self, pose: Pose, t_s: float) -> None:
        cues = measure_cues(pose)
        if cues is not None:
            self.quiet_cues.append((t_s, cues))
        while self.quiet_cues and self.quiet_cues[0][0] < t_s - 2.0 * self.config.baseline_window_s:
            self.quiet_cues.popleft()

    # --- hysteresis -------------------------------------------------------------------------

    def _zones(self, excursion: float, t_s: float, gap_s: float) -> list[Visit]:
        ended: list[Visit] = []
        visit = self.visit
        min_phase_s = self.config.min_phase_s
        left_pole = 0
        if visit is not None:
            visit.hidden_s += gap_s
            pole = visit.pole
            # Time in the pole, counting half of any tracking gap (it may have left earlier).
            dwell_s = t_s - visit.enter_s - 0.5 * visit.hidden_s
            exit_level = self.exit_level(pole)
            return_fraction = self.spec.return_fraction(self.config)
            if return_fraction is not None:
                exit_level = max(exit_level, return_fraction * abs(visit.peak))
            if pole * excursion < exit_level:
                if visit.confirmed or (visit.hidden_s > 0.0 and dwell_s >= min_phase_s):
                    visit.confirmed = True
                    visit.exit_s = t_s
                    self._finish_visit(visit)
                    ended.append(visit)
                self.visit = visit = None
                left_pole = pole
                gap_s = 0.0  # the gap belonged to the visit that just ended
            else:
                if pole * excursion > pole * visit.peak:
                    visit.peak, visit.peak_s = excursion, t_s
                if not visit.confirmed and dwell_s >= min_phase_s:
                    visit.confirmed = True
                if visit.confirmed and dwell_s > self.config.max_phase_s:
                    # Held far too long for a rep: this is where the user now rests.
                    self.visit = None
                    self._rebase(excursion)
                    return ended
        for pole in (1, -1):
            # A pole left early (cat-cow leaves at a fraction of its peak) re-arms only
            # once the signal is back inside the usual exit band.
            if pole == left_pole:
                self._armed[pole] = False
            elif pole * excursion < self.exit_level(pole):
                self._armed[pole] = True
        if visit is None and gap_s >= min_phase_s:
            hidden = self._hidden_peak(excursion, t_s, gap_s)
            if hidden is not None and hidden.exit_s > 0.0:
                self._finish_visit(hidden)
                ended.append(hidden)
                return ended
            if hidden is not None:
                self.visit = hidden
                return ended
        if visit is None:
            for pole in (1, -1):
                if not self._armed[pole]:
                    continue
                if pole * excursion > self.enter_level(pole):
                    # Entered during a tracking gap: it may have happened any time in it.
                    self.visit = Visit(
                        pole=pole,
                        enter_s=t_s - gap_s,
                        peak=excursion,
                        peak_s=t_s,
                        hidden_s=gap_s,
                    )
                    self.visit.confirmed = 0.5 * gap_s >= min_phase_s
                    break
        return ended

    def _hidden_peak(self, excursion: float, t_s: float, gap_s: float) -> Visit | None:
        """A pole the signal was entering when tracking stopped, visited unseen.

        Before the gap the signal was outside the neutral band and moving fast enough to pass
        the enter level within a fifth of a second. If it is still out on that side after the
        gap, the visit goes on; if it is back in the band, the visit ended unseen (exit_s set).
        """
        if len(self.samples) < 3:
            return None
        before, last = self.samples[-3], self.samples[-2]
        dt_s = last.t_s - before.t_s
        if dt_s <= 0.0:
            return None
        for pole in (1, -1):
            speed = pole * (last.value - before.value) / dt_s
            heading_in = pole * last.value + speed * _HEADING_S > self.enter_level(pole)
            if not heading_in or pole * last.value <= self.exit_level(pole):
                continue
            visit = Visit(
                pole=pole,
                enter_s=t_s - gap_s,
                peak=pole * max(self.usual(pole) or 0.0, self.enter_level(pole)),
                peak_s=t_s - 0.5 * gap_s,
                confirmed=True,
                hidden_s=gap_s,
            )
            if pole * excursion > self.exit_level(pole):
                return visit  # still out there: the visit goes on
            if gap_s >= 2.0 * self.config.min_phase_s:
                # Back already: there and back unseen (time enough for both).
                visit.exit_s = visit.down_s = t_s
                visit.up_s = visit.enter_s
                return visit
        return None

    def gap_within(self, start_s: float, end_s: float) -> tuple[float, float] | None:
        """The longest tracking gap that began between two times, if any."""
        inside = [g for g in self.gaps if start_s - 1e-9 <= g[0] <= end_s]
        return max(inside, key=lambda g: g[1] - g[0]) if inside else None

    def _finish_visit(self, visit: Visit) -> None:
        # Phase boundaries are where the signal crosses half the peak (midpoints of the moves).
        half = 0.5 * abs(visit.peak)
        pole = visit.pole
        before = [s for s in self.samples if visit.enter_s - 30.0 <= s.t_s <= visit.peak_s]
        visit.up_s = visit.enter_s
        for a, b in reversed(list(itertools.pairwise(before))):
            if pole * a.value < half <= pole * b.value:
                visit.up_s = _interpolate(a, b, half, pole)
                break
        after = [s for s in self.samples if visit.peak_s <= s.t_s <= visit.exit_s]
        visit.down_s = visit.exit_s
        for a, b in itertools.pairwise(after):
            if pole * a.value >= half > pole * b.value:
                visit.down_s = _interpolate(a, b, half, pole)
                break

    def _rebase(self, shift: float) -> None:
        """Move the neutral by `shift`, keeping stored excursions relative to it."""
        assert self.baseline is not None
        self.baseline += shift
        for sample in self.samples:
            sample.value -= shift

    def _follow_baseline(self, pose: Pose, context: ViewContext, t_s: float) -> None:
        """Take or follow the neutral while the user rests between reps (never mid-rep)."""
        if self.visit is not None or len(self._recent) < 3:
            self._last_follow_s = None
            return
        values = [v for _, v, _ in self._recent]
        span_covered_s = self._recent[-1][0] - self._recent[0][0]
        if span_covered_s < 0.6 * self.config.baseline_window_s:
            return
        if max(values) - min(values) > self.quiet:
            return
        level = float(statistics.median(values))
        assert self.baseline is not None
        if abs(level - self.baseline) > max(self.exit_level(1), self.exit_level(-1)):
            return
        dt_s = t_s - self._last_follow_s if self._last_follow_s is not None else 0.0
        self._last_follow_s = t_s
        alpha = min(1.0, max(0.0, dt_s) / self.config.baseline_tau_s)
        self._rebase(alpha * (level - self.baseline))
        self.noise += alpha * (self._raw_noise() - self.noise)
        turn = head_turn(pose, context)
        if turn is not None and self.baseline_turn is not None:
            self.baseline_turn += alpha * (turn - self.baseline_turn)
        if self.baseline_evidence is not None:
            level_evidence = self._recent_evidence()
            self.baseline_evidence = tuple(
                n if math.isnan(v) else (v if math.isnan(n) else n + alpha * (v - n))
                for v, n in zip(level_evidence, self.baseline_evidence, strict=True)
            )


def _interpolate(a: _Sample, b: _Sample, level: float, pole: int) -> float:
    va, vb = pole * a.value, pole * b.value
    if vb == va:
        return b.t_s
    frac = (level - va) / (vb - va)
    return a.t_s + min(1.0, max(0.0, frac)) * (b.t_s - a.t_s)


class RepCounter:
    """Counts one movement's reps from a pose stream (about 15 poses/s), live, with coaching."""

    def __init__(
        self,
        movement: str,
        config: RepConfig,
        *,
        target_reps: int | None = None,
        armed: bool = False,
        neutral: PostureCues | None = None,
    ) -> None:
        self.spec = rep_movement(movement)
        self.movement: str = self.spec.movement.value
        self.config = config
        self.target_reps = target_reps
        self.armed = armed
        self._tracker = _PoleTracker(self.spec, config)
        self._neutral = neutral
        self._tracker.want_cues = neutral is not None
        self._started = not armed
        self._start_s: float | None = None
        self._last_t_s: float | None = None
        self._reps: list[RepDetail] = []
        self._pending: Visit | None = None
        self._last_visit: Visit | None = None
        self._after_pole: int | None = None
        self._feedback: list[str] = []
        self._checked_start = False
        self._pair_rejection_noted = False
        self._locks_seen = 0
        # Usual ranges: pole-to-pole spans (paired movements); peaks per pole (the others).
        self._raw_ranges: list[float] = []
        self._last_visit_end_s: float | None = None
        self._pair_ranges: deque[float] = deque(maxlen=config.usual_window_reps)
        self._side_peaks: dict[int, deque[float]] = {
            1: deque(maxlen=config.usual_window_reps),
            -1: deque(maxlen=config.usual_window_reps),
        }

    # --- public -----------------------------------------------------------------------------

    def set_neutral(self, neutral: PostureCues | None) -> None:
        """The user's calibrated sitting-tall posture, to check the set starts from it."""
        self._neutral = neutral
        self._tracker.want_cues = neutral is not None and not self._checked_start

    @property
    def started(self) -> bool:
        """Whether the set has begun (always, unless armed and waiting for a first clear phase)."""
        return self._started

    @property
    def reps(self) -> int:
        """Reps counted so far."""
        return len(self._reps)

    @property
    def reps_detail(self) -> tuple[RepDetail, ...]:
        """Every counted rep."""
        return tuple(self._reps)

    @property
    def feedback(self) -> list[str]:
        """Every coaching remark so far, oldest first."""
        return list(self._feedback)

    @property
    def per_side(self) -> dict[str, int] | None:
        """Lateral flexion: reps per side; None for cat-cow."""
        return per_side_counts(self._reps) if self.spec.sided else None

    @property
    def status(self) -> CounterStatus:
        """What to show now."""
        tracker = self._tracker
        visit = tracker.visit
        pole = visit.pole if visit is not None and visit.confirmed else None
        phase = self.spec.text.pole_names[pole] if pole is not None else "neutral"
        return CounterStatus(
            movement=self.movement,
            reps=self.reps,
            per_side=self.per_side,
            phase=phase,
            paused=tracker.paused,
            started=self._started,
            breath_cue=self._breath_cue(pole),
            last_feedback=self._feedback[-1] if self._feedback else None,
            target_reps=self.target_reps,
            view=tracker.context.view if tracker.context is not None else None,
        )

    def update(self, pose: Pose | None, t_s: float) -> RepDetail | None:
        """Feed one pose (None: nobody tracked); returns the rep completed at this pose, if any."""
        if self._start_s is None and not self.armed:
            self._start_s = t_s
        self._last_t_s = t_s
        ended = self._tracker.update(pose, t_s)
        if self._tracker.locks != self._locks_seen:
            # The camera view changed: ranges learned in the old units no longer apply.
            self._locks_seen = self._tracker.locks
            self._pair_ranges.clear()
            for peaks in self._side_peaks.values():
                peaks.clear()
            self._pending = self._last_visit = None
        visit = self._tracker.visit
        if not self._started and visit is not None and visit.confirmed:
            self._started = True
            self._start_s = visit.enter_s
        if visit is not None and visit.confirmed and not self._checked_start:
            self._check_start_posture()
        done: RepDetail | None = None
        for finished in ended:
            self._last_visit_end_s = finished.exit_s
            rep = self._on_visit(finished)
            if rep is not None:
                done = rep
        if (
            self._pending is not None
            and self._tracker.visit is None
            and t_s - self._pending.exit_s > self.config.max_pair_gap_s
        ):
            self._pending = None
        return done

    def finish(self, t_s: float) -> SetCompleted:
        """Close the set: counts, every rep and a short summary of the coaching."""
        start_s = self._start_s if self._start_s is not None else t_s
        end_s = self._reps[-1].end_s if self._reps else t_s
        return SetCompleted(
            t_s=t_s,
            movement=self.movement,
            reps=self.reps,
            start_s=start_s,
            end_s=end_s,
            per_side=self.per_side,
            reps_detail=tuple(self._reps),
            feedback=tuple(self.summary()),
        )

    def summary(self) -> list[str]:
        """End-of-set coaching: tempo, range, start posture, side balance, target."""
        slouched = RESET_TO_NEUTRAL in self._feedback
        return summarise(self.movement, self._reps, self.config, self.target_reps, slouched)

    def raw_ranges(self) -> list[float]:
        """Each rep's range in signal units (cat-cow span; lateral flexion peak degrees)."""
        return list(self._raw_ranges)

    def ranges_between(self, start_s: float, end_s: float) -> list[float]:
        """Raw ranges (signal units) of the reps counted between two times."""
        return [
            raw
            for rep, raw in zip(self._reps, self._raw_ranges, strict=True)
            if rep.end_s >= start_s and rep.start_s <= end_s
        ]

    def signal_span(self, start_s: float, end_s: float) -> float:
        """Spread (5th to 95th percentile) of the rep signal between two times, signal units."""
        values = sorted(s.value for s in self._tracker.samples if start_s <= s.t_s <= end_s)
        if len(values) < 2:
            return 0.0
        lo = values[int(0.05 * (len(values) - 1))]
        hi = values[math.ceil(0.95 * (len(values) - 1))]
        return hi - lo

    @property
    def last_activity_s(self) -> float | None:
        """When the user was last in a phase (now, while in one)."""
        visit = self._tracker.visit
        if visit is not None and visit.confirmed:
            return self._last_t_s
        return self._last_visit_end_s

    # --- internals --------------------------------------------------------------------------

    def _on_visit(self, visit: Visit) -> RepDetail | None:
        if not self.spec.paired:
            self._after_pole = visit.pole
            lean_s = visit.down_s - visit.up_s
            return_s = visit.exit_s - visit.down_s
            usual = self._usual_range(visit.pole)
            rng = abs(visit.peak) / usual if usual else 1.0
            rep = RepDetail(
                start_s=visit.up_s,
                end_s=visit.exit_s,
                phase_s=(round(lean_s, 2), round(return_s, 2)),
                range=round(rng, 2),
                partial=rng < self.config.partial_fraction,
                side=self.spec.text.pole_names[visit.pole] if self.spec.sided else None,
            )
            self._side_peaks[visit.pole].append(abs(visit.peak))
            self._count(rep, abs(visit.peak))
            return rep
        self._after_pole = visit.pole
        missed = self._missed_in_gap(visit)
        inferred = self._pair(missed) if missed is not None else None
        self._last_visit = visit
        return self._pair(visit) or inferred

    def _missed_in_gap(self, visit: Visit) -> Visit | None:
        """The opposite pole, when a tracking gap hid it between two visits to the same pole.

        Only once the user is clearly doing reps (one counted): cat-cow alternates, so the
        same pole twice across a gap means the other one happened unseen.
        """
        last = self._last_visit
        if last is None or last.pole != visit.pole or not self._reps:
            return None
        gap = self._tracker.gap_within(last.peak_s, visit.exit_s)
        if gap is None or gap[1] - gap[0] < self.config.min_phase_s:
            return None
        pole = -visit.pole
        usual = self._tracker.usual(pole) or self._tracker.gate
        return Visit(
            pole=pole,
            enter_s=gap[0],
            peak=pole * usual,
            peak_s=0.5 * (gap[0] + gap[1]),
            confirmed=True,
            hidden_s=gap[1] - gap[0],
            exit_s=gap[1],
            up_s=gap[0],
            down_s=gap[1],
        )

    def _pair(self, visit: Visit) -> RepDetail | None:
        """Paired movements (cat-cow): a rep is two visits to opposite poles, counted as the
        second one ends."""
        first = self._pending
        if first is None or first.pole == visit.pole:
            self._pending = visit
            return None
        self._pending = None
        pair_confirms = self.spec.pair_confirms
        if pair_confirms is not None and not pair_confirms(first, visit, self.config):
            # e.g. head only (a nod, talking, or cat-cow done with the neck alone).
            self._pending = visit
            remark = self.spec.pair_rejected_remark
            if self._reps and remark is not None and not self._pair_rejection_noted:
                self._pair_rejection_noted = True
                self._feedback.append(remark)
            return None
        boundary_s = 0.5 * (first.down_s + visit.up_s)
        phases = {first.pole: boundary_s - first.up_s, visit.pole: visit.down_s - boundary_s}
        p2p = abs(first.peak) + abs(visit.peak)
        if p2p < self.spec.min_pair_range(self.config):
            return None
        usual = self._usual_range(0)
        rng = p2p / usual if usual else 1.0
        rep = RepDetail(
            start_s=first.up_s,
            end_s=visit.exit_s,
            phase_s=(round(phases[1], 2), round(phases[-1], 2)),
            range=round(rng, 2),
            partial=rng < self.config.partial_fraction,
        )
        self._pair_ranges.append(p2p)
        self._count(rep, p2p)
        return rep

    def _usual_range(self, pole: int) -> float | None:
        # The usual range excludes the rep being judged (it is added after).
        values = self._pair_ranges if self.spec.paired else self._side_peaks[pole]
        if not values and not self.spec.paired:
            values = self._side_peaks[-pole]
        return float(statistics.median(values)) if values else None

    def _count(self, rep: RepDetail, raw_range: float) -> None:
        self._reps.append(rep)
        self._raw_ranges.append(raw_range)
        if not self._started:
            self._started = True
            self._start_s = rep.start_s
        remarks = self._rep_feedback(rep)
        self._feedback.extend(remarks)

    def _rep_feedback(self, rep: RepDetail) -> list[str]:
        cfg = self.config
        return rep_remarks(
            len(self._reps),
            judged_phases(self.movement, rep),
            self.spec.text,
            rep,
            target_phase_s=cfg.target_phase_s,
            slow_down_phase_s=cfg.slow_down_phase_s,
            keep_moving_phase_s=cfg.keep_moving_phase_s,
        )

    def _check_start_posture(self) -> None:
        self._checked_start = True
        self._tracker.want_cues = False
        neutral = self._neutral
        visit = self._tracker.visit
        before_s = visit.enter_s if visit is not None else math.inf
        window = [c for t_s, c in self._tracker.quiet_cues if t_s <= before_s]
        self._tracker.quiet_cues.clear()
        if neutral is None or not window:
            return
        start = median_cues(window)
        metrics = posture_metrics(start, neutral)
        if metrics is None:
            return
        if max(metrics.forward_head, metrics.thoracic_rounding) >= self.config.slouch_points:
            self._feedback.append(RESET_TO_NEUTRAL)

    def _breath_cue(self, pole: int | None) -> str:
        # Paired movements cue the next pole only while its pair is open.
        if self.spec.paired:
            after = self._pending.pole if self._pending is not None else None
        else:
            after = self._after_pole
        return self.spec.text.breath_cue(pole, after)


def per_side_counts(reps: list[RepDetail] | tuple[RepDetail, ...]) -> dict[str, int]:
    """Reps per side ("left", "right") of lateral flexion reps."""
    counts = {"left": 0, "right": 0}
    for rep in reps:
        if rep.side in counts:
            counts[rep.side] += 1
    return counts


def summarise(
    movement: str,
    reps: list[RepDetail] | tuple[RepDetail, ...],
    config: RepConfig,
    target_reps: int | None = None,
    slouched_start: bool = False,
) -> list[str]:
    """End-of-set coaching from the reps: tempo, range, start posture, side balance, target."""
    spec = rep_movement(movement)
    return set_summary(
        [p for rep in reps for p in judged_phases(movement, rep)],
        reps,
        per_side=per_side_counts(reps) if spec.sided else None,
        target_reps=target_reps,
        slouched_start=slouched_start,
        target_phase_s=config.target_phase_s,
        slow_down_phase_s=config.slow_down_phase_s,
        keep_moving_phase_s=config.keep_moving_phase_s,
    )


def judged_phases(movement: str, rep: RepDetail) -> tuple[float, ...]:
    """The phase durations tempo is judged on (see `RepMovement.judged_phases`)."""
    return rep.phase_s[: rep_movement(movement).judged_phases]


class SetRecognizer:
    """Watches the pose stream with no prompt and recognises a set of a countable movement.

    Both movements are counted passively; a set is recognised once `recognise_min_reps`
    consecutive reps of one movement come rhythmically (steady period, steady range, large
    enough, clearly more than the other movement's signal moves), and it ends after
    `set_end_idle_s` without movement.
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
        self._detectors = {m: RepCounter(m, self.config, armed=True) for m in MOVEMENTS}
        self._runs = {m: [] for m in MOVEMENTS}
        self._active = None

    def _on_rep(self, movement: str, rep: RepDetail, raw: float) -> None:
        run = self._runs[movement]
        if self._active is not None:
            if movement == self._active:
                run.append((rep, raw))
            return
        cfg = self.config
        if run:
            period_s = rep.end_s - run[-1][0].end_s
            if not cfg.recognise_min_period_s <= period_s <= cfg.recognise_max_period_s:
                run.clear()
        big_enough = raw >= self._table[movement].recognise_range(cfg)
        if not big_enough:
            run.clear()
            return
        run.append((rep, raw))
        n = cfg.recognise_min_reps
        if len(run) >= n and self._rhythmic(movement, run[-n:]):
            del run[:-n]
            self._active = movement

    def _rhythmic(self, movement: str, run: list[tuple[RepDetail, float]]) -> bool:
        cfg = self.config
        ends = [rep.end_s for rep, _ in run]
        periods = [b - a for a, b in itertools.pairwise(ends)]
        if periods and max(periods) > cfg.recognise_period_ratio * min(periods):
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
