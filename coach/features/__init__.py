"""Provides features computed from landmarks: smoothing, geometry, posture and motion."""
