"""Provides the pole tracker: one movement's signal, its neutral and tracking gaps, fed to the zones."""

from __future__ import annotations

import math
import statistics
from collections import deque

import numpy as np

from coach.config import RepConfig
from coach.decisions.pole_zones import ExcursionSample, PoleZones
from coach.decisions.rep_table import Evidence, RepMovement, Visit
from coach.features.posture import PostureCues, measure_cues
from coach.features.rep_signals import ViewContext, head_turn, landmarks_visible, view_context
from coach.features.view import ViewDetector
from coach.records import Pose

# Tracking gaps longer than this restart the signal filters (a frame or two do not).
_RESEED_GAP_S = 0.25
# How much of the stream before a plausible neutral is kept to be judged against it.
_UNJUDGED_S = 30.0
# Samples the noise estimate looks at (about a second at 15 poses/s).
_NOISE_WINDOW_FRAMES = 15


class PoleTracker(PoleZones):
    """Baseline, hysteresis and minimum durations on one movement's signal: emits pole visits.

    This side reads the pose (view, visibility, smoothing, gaps) and takes and follows the
    neutral; the hysteresis on the excursion from it is `PoleZones`'.
    """

    def __init__(self, spec: RepMovement, config: RepConfig) -> None:
        super().__init__(spec, config)
        self.quiet = spec.quiet(config)
        self.neutral_limit = spec.neutral_limit(config)
        self.context: ViewContext | None = None
        self.locks = 0
        """How many times the view (and so the units) was taken afresh."""
        self.baseline_turn: float | None = None
        self.baseline_evidence: Evidence | None = None
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
        self._raw_recent: deque[float] = deque(maxlen=_NOISE_WINDOW_FRAMES)
        self.quiet_cues: deque[tuple[float, PostureCues]] = deque()
        self.want_cues = False

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
        self.samples.append(ExcursionSample(t_s, excursion))
        while self.samples and self.samples[0].t_s < t_s - 60.0:
            self.samples.popleft()
        ended = self._zones(excursion, t_s, gap_s)
        if self.visit is not None:
            absolute = self.spec.absolute_evidence
            self.visit.evidence.append(
                tuple(
                    v if i in absolute else v - n
                    for i, (v, n) in enumerate(zip(evidence, self.baseline_evidence, strict=True))
                )
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

    def _rest_here(self, excursion: float) -> None:
        """The new posture's evidence is the neutral too: measured against the old one (a
        slouch the neutral had followed), a set done after sitting up would read shifted.
        """
        super()._rest_here(excursion)
        self.baseline_evidence = self._recent_evidence()

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

    def gap_within(self, start_s: float, end_s: float) -> tuple[float, float] | None:
        """The longest tracking gap that began between two times, if any."""
        inside = [g for g in self.gaps if start_s - 1e-9 <= g[0] <= end_s]
        return max(inside, key=lambda g: g[1] - g[0]) if inside else None

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
