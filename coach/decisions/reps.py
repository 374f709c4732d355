"""Provides the rep counter: one movement's reps from the pose stream, live, with form coaching."""

from __future__ import annotations

import math
import statistics
from collections import deque

from coach.config import RepConfig
from coach.decisions.pole_tracker import PoleTracker
from coach.decisions.rep_coaching import RESET_TO_NEUTRAL, rep_remarks, set_summary
from coach.decisions.rep_table import Visit, rep_movement
from coach.features.posture import PostureCues, median_cues, posture_metrics
from coach.records import Pose, RepDetail, SetCompleted
from coach.statuses import CounterStatus

__all__ = [
    "RepCounter",
    "judged_phases",
    "per_side_counts",
    "summarise",
]


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
        self._tracker = PoleTracker(self.spec, config)
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
