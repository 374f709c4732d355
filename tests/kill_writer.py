"""Writes a session to a history file at camera speed until killed: the kill -9 test's victim."""

from __future__ import annotations

import datetime
import sys
import time
from pathlib import Path

from coach.features.posture import PostureMetrics
from coach.records import (
    Event,
    Nudge,
    PoseSample,
    PostureState,
    PromptResolved,
    RepDetail,
    SetCompleted,
    Snapshot,
    Tracking,
)
from coach.statuses import SlouchStatus


def fake_snapshot(
    t_s: float,
    state: str = "upright",
    *,
    forward_head: float | None = None,
    thoracic_rounding: float | None = None,
    activity: str | None = None,
    seated_s: float = 0.0,
    events: tuple[Event, ...] = (),
) -> Snapshot:
    """A snapshot as the analyzer would publish it, without a pose (nothing else is read)."""
    metrics = None
    if forward_head is not None or thoracic_rounding is not None:
        metrics = PostureMetrics(forward_head or 0.0, thoracic_rounding or 0.0, 0.0, 0.0)
    return Snapshot(
        t_s=t_s,
        sample=PoseSample(t_s=t_s, pose=None, tracking=Tracking.NO_PERSON),
        view="front",
        metrics=metrics,
        slouch=SlouchStatus(PostureState(state), since_s=0.0, reason=None),
        calibrating=None,
        next_nudge_in_s=None,
        recalibrate=False,
        events=events,
        activity=activity,
        seated_s=seated_s,
    )


def fake_set(
    t_s: float, movement: str = "cat-cow", reps: int = 3, prompt_id: int | None = None
) -> SetCompleted:
    """A set of `reps` two-phase reps ending at `t_s`, the last one partial."""
    start_s = t_s - 4.0 * reps
    detail = tuple(
        RepDetail(
            start_s=start_s + 4.0 * i,
            end_s=start_s + 4.0 * (i + 1),
            phase_s=(2.0, 2.0),
            range=1.0 if i < reps - 1 else 0.4,
            partial=i == reps - 1,
        )
        for i in range(reps)
    )
    return SetCompleted(
        t_s=t_s,
        movement=movement,
        reps=reps - 1,
        start_s=start_s,
        end_s=t_s,
        reps_detail=detail,
        feedback=("slow down",),
        prompt_id=prompt_id,
    )


def main(argv: list[str]) -> int:
    """Write snapshots at `rate_hz` in real time; print each one's wall time once enqueued."""
    from coach.actions.session_recorder import SessionRecorder
    from coach.history.session_log import SessionLog

    db = Path(argv[1])
    rate_hz = float(argv[2]) if len(argv) > 2 else 50.0
    log = SessionLog(db)
    recorder = SessionRecorder(log, "kill-test", datetime.datetime.now().astimezone(), window_s=0.5)
    started = time.monotonic()
    print("ready", flush=True)
    i = 0
    while True:
        t_s = time.monotonic() - started
        events: list[Event] = [Nudge(t_s, "forward_head", "neck-waves", "Head", "Tuck", i)]
        if i >= 3:
            events.append(PromptResolved(t_s, i - 3, "done", correction_s=1.5))
        if i % 10 == 9:
            events.append(fake_set(t_s, prompt_id=i))
        state = "slouched" if (i // 25) % 2 else "upright"
        recorder.update(
            fake_snapshot(t_s, state, forward_head=5.0, activity="still", events=tuple(events)),
            None,
        )
        print(f"{recorder.wall(t_s):.6f}", flush=True)
        i += 1
        time.sleep(max(0.0, started + i / rate_hz - time.monotonic()))


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
