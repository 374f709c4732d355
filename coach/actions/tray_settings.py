"""Provides the tray's Settings menu: each choice is saved to the settings file and applied at once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coach.actions.controls import Controls
from coach.config import Config, NudgeStyle
from coach.config.editing import set_setting
from coach.config.user_file import setting_value, user_config_path
from coach.errors import ConfigError
from coach.records import Command
from coach.source.cameras import Camera, list_cameras

if TYPE_CHECKING:
    from coach.actions.tray_sni import MenuEntry


@dataclass(frozen=True)
class Choice:
    """One entry of a setting's submenu: its label and the value `coach config set` takes."""

    label: str
    value: str


@dataclass(frozen=True)
class SettingMenu:
    """One setting in the tray's Settings menu: a submenu of choices."""

    title: str
    key: str
    """"section.key", as `coach config set` names it."""
    choices: Callable[[Config, list[Camera]], tuple[Choice, ...]]
    """The choices to show now (the current value among them)."""
    several: bool = False
    """A set of choices (each entry toggles one), not one of them."""


def _fixed(*choices: Choice) -> Callable[[Config, list[Camera]], tuple[Choice, ...]]:
    return lambda _config, _cameras: choices


def _hours(config: Config, _cameras: list[Camera]) -> tuple[Choice, ...]:
    presets = (
        Choice("Always", ""),
        Choice("08:00-18:00", "08:00-18:00"),
        Choice("09:00-17:00", "09:00-17:00"),
    )
    now = config.prompts.working_hours
    custom = () if any(c.value == now for c in presets) else (Choice(now, now),)
    return presets + custom


def _cameras(config: Config, cameras: list[Camera]) -> tuple[Choice, ...]:
    choices = tuple(Choice(f"{c.name} (video{c.index})", c.identity) for c in cameras)
    now = config.source.camera
    if now and not any(c.value == now for c in choices):
        choices += (Choice(f"{now.removeprefix('camera:')} (not connected)", now),)
    return choices


HOLD_TIMES = _fixed(
    Choice("30 s", "30"), Choice("45 s", "45"), Choice("1 min", "60"), Choice("2 min", "120")
)
STYLES = _fixed(*(Choice(style.value.capitalize(), style.value) for style in NudgeStyle))

SENSITIVITY = _fixed(
    Choice("1 (fewest nudges)", "1"),
    Choice("2", "2"),
    Choice("3 (default)", "3"),
    Choice("4", "4"),
    Choice("5 (most sensitive)", "5"),
)

SETTING_MENUS = (
    SettingMenu("Sensitivity", "slouch.sensitivity", SENSITIVITY),
    SettingMenu("Nudge after slouching for", "nudge.hold_s", HOLD_TIMES),
    SettingMenu("Nudge style", "nudge.style", STYLES, several=True),
    SettingMenu("Camera", "source.camera", _cameras),
    SettingMenu("Working hours (prompts)", "prompts.working_hours", _hours),
)
"""The Settings menu, one entry per setting (a sensitivity submenu is one entry more)."""


def _chosen(current: Any, value: str) -> bool:
    """Whether `value` (as `coach config set` takes it) is the current value, or among it."""
    if isinstance(current, tuple):
        return value in [m.value if isinstance(m, Enum) else m for m in current]
    if isinstance(current, float | int) and not isinstance(current, bool):
        return float(value) == current
    return str(current) == value


class SettingsMenu:
    """The tray's Settings submenu. A choice goes through the same path as `coach config set`
    (checked as the loader checks, written whole), then the running coach is told to read the
    settings again (Command.RELOAD_CONFIG on the controls' queue)."""

    def __init__(
        self,
        controls: Controls,
        config: Config,
        reload: Callable[[], Config],
        *,
        path: Path | None = None,
        cameras: Callable[[], list[Camera]] = list_cameras,
        on_error: Callable[[str], None] = lambda _message: None,
        menus: tuple[SettingMenu, ...] = SETTING_MENUS,
    ) -> None:
        """`reload`: the settings in force, read again (every layer: the user's file,
        --config, the options); `on_error`: a choice that could not be saved, in one line."""
        self._controls = controls
        self.config = config
        self._reload = reload
        self._path = path or user_config_path()
        self._cameras = cameras
        self._on_error = on_error
        self._menus = menus

    def applied(self, config: Config) -> None:
        """The running coach read its settings again (from here or `coach config set`): tick
        what is in force now."""
        self.config = config

    def entry(self, changed: Callable[[], None]) -> MenuEntry:
        """The "Settings" entry and its submenus; `changed` redraws the menu after a choice."""
        from coach.actions.tray_sni import MenuEntry

        cameras = self._cameras()
        submenus = []
        for menu in self._menus:
            current = setting_value(self.config, menu.key)
            choices = menu.choices(self.config, cameras)
            entries = tuple(
                MenuEntry(
                    choice.label,
                    self._click(menu, choice, changed),
                    checked=_chosen(current, choice.value),
                    radio=not menu.several,
                    # The last style cannot be taken away: a nudge must reach you somehow.
                    enabled=not (
                        menu.several and len(current) == 1 and _chosen(current, choice.value)
                    ),
                )
                for choice in choices
            ) or (MenuEntry("none found", enabled=False),)
            submenus.append(MenuEntry(menu.title, children=entries))
        return MenuEntry("Settings", children=tuple(submenus))

    def _click(
        self, menu: SettingMenu, choice: Choice, changed: Callable[[], None]
    ) -> Callable[[], None]:
        def clicked() -> None:
            self.choose(menu, choice)
            changed()

        return clicked

    def choose(self, menu: SettingMenu, choice: Choice) -> None:
        """Save `choice` (toggled in or out of a set of choices) and have it applied."""
        value = choice.value
        if menu.several:
            current = [
                m.value if isinstance(m, Enum) else str(m)
                for m in setting_value(self.config, menu.key)
            ]
            chosen = [v for v in current if v != value] if value in current else [*current, value]
            value = " ".join(chosen)
        try:
            set_setting(self._path, menu.key, value)
            self.config = self._reload()
        except ConfigError as exc:
            self._on_error(f"the setting was not saved: {exc}")
            return
        if not _chosen(setting_value(self.config, menu.key), choice.value) and not menu.several:
            self._on_error(
                f"{menu.key} saved in {self._path}, but a --config file sets it too and wins"
            )
        self._controls.push(Command.RELOAD_CONFIG)
