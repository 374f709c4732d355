"""Provides the frozen, per-stage configuration and its TOML loader."""

from coach.config.loader import DAYS, from_mapping, load_config, working_days, working_hours
from coach.config.reps import RepConfig
from coach.config.sections import (
    CalibrationConfig,
    Config,
    LoopConfig,
    NudgeConfig,
    NudgeStyle,
    PoseConfig,
    PreviewConfig,
    PromptConfig,
    SlouchConfig,
    SourceConfig,
    StationaryConfig,
)

__all__ = [
    "DAYS",
    "CalibrationConfig",
    "Config",
    "LoopConfig",
    "NudgeConfig",
    "NudgeStyle",
    "PoseConfig",
    "PreviewConfig",
    "PromptConfig",
    "RepConfig",
    "SlouchConfig",
    "SourceConfig",
    "StationaryConfig",
    "from_mapping",
    "load_config",
    "working_days",
    "working_hours",
]
