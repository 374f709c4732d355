"""Provides the single exception tree that the CLI catches and prints.

Our exception hierarchy::

    CoachError
    ├── ConfigError          invalid configuration file or option
    ├── SourceError          a frame source could not be opened or read
    │   ├── CameraUnavailable
    │   ├── VideoUnreadable
    │   └── StreamUnreachable
    ├── ModelError           the pose model is missing, corrupt or not a pose model
    ├── LandmarkFileError    a landmark recording is missing or malformed
    ├── CalibrationError     a calibration profile is missing or unusable
    ├── HistoryError         the history database cannot be opened, read or written
    │   └── HistoryDamaged   the history file is corrupt or not a database
    ├── InstanceError        one coach per user: none runs, one already does, or it is silent
    │   ├── NotRunning
    │   ├── AlreadyRunning
    │   └── RemoteFailed
    └── DisplayUnavailable   the preview window cannot be opened on the display

Every message is one line that says what is wrong and what to do.
"""

from __future__ import annotations


class CoachError(Exception):
    """Base of every error the coach reports to the user."""


class ConfigError(CoachError):
    """The configuration file or a command-line option is invalid."""


class SourceError(CoachError):
    """A frame source could not be opened or read."""


class CameraUnavailable(SourceError):
    """A webcam index could not be opened (missing, busy or not permitted)."""


class VideoUnreadable(SourceError):
    """A video file is missing, corrupt, truncated or in an unknown format."""


class StreamUnreachable(SourceError):
    """A stream URL (MJPEG, RTSP, HTTP) could not be reached or decoded."""


class ModelError(CoachError):
    """The pose model is missing, corrupt or not a pose landmarker model."""


class LandmarkFileError(CoachError):
    """A landmark recording is missing, malformed or of an unknown version."""


class CalibrationError(CoachError):
    """A calibration profile is missing or unusable."""


class HistoryError(CoachError):
    """The history database cannot be opened, read or written."""


class HistoryDamaged(HistoryError):
    """The history file is corrupt or not a database: only here is moving it aside the fix."""


class InstanceError(CoachError):
    """Another coach of this user: none runs, one already does, or it does not answer."""


class NotRunning(InstanceError):
    """`coach pause`, `resume` or `status` found no running coach to ask."""


class AlreadyRunning(InstanceError):
    """A coach already runs for this user, so this one does not start."""


class RemoteFailed(InstanceError):
    """A coach is running but did not answer in time, or refused the request."""


class DisplayUnavailable(CoachError):
    """The preview window cannot be opened: no X server answers, or its screen is not TrueColor."""


def one_line(exc: BaseException) -> str:
    """An exception's message on one line (its type's name when it has none), to quote."""
    text = " ".join(str(exc).split())
    return text or type(exc).__name__
