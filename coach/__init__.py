"""Coach: a webcam posture and movement coach for desk workers."""

__version__ = "0.1.0"
