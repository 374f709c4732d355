"""Provides the pose stage: the model bundle, the runtime and its tracking, and landmark recordings."""
