"""Provides the tray icon over D-Bus: a StatusNotifierItem and its com.canonical.dbusmenu menu."""

# No `from __future__ import annotations`: dbus-fast reads the D-Bus signatures from the
# annotations at class creation.

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from dbus_fast import PropertyAccess, Variant
from dbus_fast.annotations import (
    DBusBool,
    DBusInt32,
    DBusObjectPath,
    DBusSignature,
    DBusStr,
    DBusUInt32,
)
from dbus_fast.service import ServiceInterface, dbus_method, dbus_property, dbus_signal

ITEM_PATH = "/StatusNotifierItem"
MENU_PATH = "/MenuBar"

Pixmaps = Annotated[list[tuple[int, int, bytes]], DBusSignature("a(iiay)")]
ToolTip = Annotated[
    tuple[str, list[tuple[int, int, bytes]], str, str], DBusSignature("(sa(iiay)ss)")
]
Layout = Annotated[
    tuple[int, tuple[int, dict[str, Variant], list[Variant]]], DBusSignature("u(ia{sv}av)")
]
GroupProperties = Annotated[list[tuple[int, dict[str, Variant]]], DBusSignature("a(ia{sv})")]
IntList = Annotated[list[int], DBusSignature("ai")]
StrList = Annotated[list[str], DBusSignature("as")]


@dataclass(frozen=True)
class MenuEntry:
    """One menu line: a label and what clicking it does (or a separator, or a submenu)."""

    label: str = ""
    on_click: Callable[[], None] | None = None
    children: tuple["MenuEntry", ...] = ()
    separator: bool = False
    enabled: bool = True
    checked: bool | None = None
    """A choice: shown ticked or not (None: not a choice)."""
    radio: bool = False
    """One of several (a radio item), not a checkbox of its own."""


class StatusNotifierItem(ServiceInterface):
    """org.kde.StatusNotifierItem: the icon, its tooltip, and where its menu is."""

    def __init__(self, title: str) -> None:
        super().__init__("org.kde.StatusNotifierItem")
        self.title = title
        self.pixmaps: list[tuple[int, int, bytes]] = []
        self.tooltip = ""

    @dbus_property(access=PropertyAccess.READ)
    def Category(self) -> DBusStr:
        return "ApplicationStatus"

    @dbus_property(access=PropertyAccess.READ)
    def Id(self) -> DBusStr:
        return "coach"

    @dbus_property(access=PropertyAccess.READ)
    def Title(self) -> DBusStr:
        return self.title

    @dbus_property(access=PropertyAccess.READ)
    def Status(self) -> DBusStr:
        return "Active"

    @dbus_property(access=PropertyAccess.READ)
    def IconName(self) -> DBusStr:
        return ""

    @dbus_property(access=PropertyAccess.READ)
    def IconPixmap(self) -> Pixmaps:
        return self.pixmaps

    @dbus_property(access=PropertyAccess.READ)
    def ToolTip(self) -> ToolTip:
        return ("", [], self.title, self.tooltip)

    @dbus_property(access=PropertyAccess.READ)
    def ItemIsMenu(self) -> DBusBool:
        return True  # a click opens the menu; there is no window to show

    @dbus_property(access=PropertyAccess.READ)
    def Menu(self) -> DBusObjectPath:
        return MENU_PATH

    @dbus_method()
    def Activate(self, x: DBusInt32, y: DBusInt32) -> None:
        """Nothing beyond the menu."""

    @dbus_method()
    def SecondaryActivate(self, x: DBusInt32, y: DBusInt32) -> None:
        """Nothing beyond the menu."""

    @dbus_method()
    def ContextMenu(self, x: DBusInt32, y: DBusInt32) -> None:
        """Hosts show the exported menu themselves."""

    @dbus_method()
    def Scroll(self, delta: DBusInt32, orientation: DBusStr) -> None:
        """Scrolling does nothing."""

    @dbus_signal()
    def NewIcon(self) -> None:
        """The pixmap changed."""

    @dbus_signal()
    def NewToolTip(self) -> None:
        """The tooltip changed."""

    @dbus_signal()
    def NewTitle(self) -> None:
        """The title changed."""


class DBusMenu(ServiceInterface):
    """com.canonical.dbusmenu: the menu the tray host draws; clicks come back as Event."""

    def __init__(self, entries: tuple[MenuEntry, ...]) -> None:
        super().__init__("com.canonical.dbusmenu")
        self.revision = 1
        self._entries: dict[int, MenuEntry] = {}
        self._children: dict[int, list[int]] = {0: []}
        self.set_entries(entries)

    def set_entries(self, entries: tuple[MenuEntry, ...]) -> None:
        """Replace the menu (ids are positions, so they stay put while the shape does)."""
        self._entries.clear()
        self._children = {0: []}
        next_id = 1

        def add(parent: int, items: tuple[MenuEntry, ...]) -> None:
            nonlocal next_id
            for entry in items:
                item_id = next_id
                next_id += 1
                self._entries[item_id] = entry
                self._children[parent].append(item_id)
                self._children[item_id] = []
                add(item_id, entry.children)

        add(0, entries)
        self.revision += 1

    def _properties(self, item_id: int) -> dict[str, Variant]:
        if item_id == 0:
            return {"children-display": Variant("s", "submenu")}
        entry = self._entries[item_id]
        if entry.separator:
            return {"type": Variant("s", "separator")}
        props = {"label": Variant("s", entry.label), "enabled": Variant("b", entry.enabled)}
        if entry.children:
            props["children-display"] = Variant("s", "submenu")
        if entry.checked is not None:
            props["toggle-type"] = Variant("s", "radio" if entry.radio else "checkmark")
            props["toggle-state"] = Variant("i", 1 if entry.checked else 0)
        return props

    def _layout(self, item_id: int, depth: int) -> tuple[int, dict[str, Variant], list[Variant]]:
        children = [] if depth == 0 else self._children.get(item_id, [])
        return (
            item_id,
            self._properties(item_id),
            [Variant("(ia{sv}av)", list(self._layout(c, depth - 1))) for c in children],
        )

    @dbus_property(access=PropertyAccess.READ)
    def Version(self) -> DBusUInt32:
        return 3

    @dbus_property(access=PropertyAccess.READ)
    def TextDirection(self) -> DBusStr:
        return "ltr"

    @dbus_property(access=PropertyAccess.READ)
    def Status(self) -> DBusStr:
        return "normal"

    @dbus_property(access=PropertyAccess.READ)
    def IconThemePath(self) -> StrList:
        return []

    @dbus_method()
    def GetLayout(
        self, parentId: DBusInt32, recursionDepth: DBusInt32, propertyNames: StrList
    ) -> Layout:
        if parentId not in self._children:
            parentId = 0
        return (self.revision, self._layout(parentId, recursionDepth))

    @dbus_method()
    def GetGroupProperties(self, ids: IntList, propertyNames: StrList) -> GroupProperties:
        known = [i for i in (ids or list(self._entries)) if i == 0 or i in self._entries]
        return [(i, self._properties(i)) for i in known]

    @dbus_method()
    def GetProperty(
        self, item_id: DBusInt32, name: DBusStr
    ) -> Annotated[Variant, DBusSignature("v")]:
        return self._properties(item_id).get(name, Variant("s", ""))

    @dbus_method()
    def Event(
        self,
        item_id: DBusInt32,
        eventId: DBusStr,
        data: Annotated[Any, DBusSignature("v")],
        timestamp: DBusUInt32,
    ) -> None:
        self.click(item_id, eventId)

    @dbus_method()
    def EventGroup(
        self, events: Annotated[list[tuple[int, str, Variant, int]], DBusSignature("a(isvu)")]
    ) -> IntList:
        for item_id, event_id, _data, _t in events:
            self.click(item_id, event_id)
        return []

    @dbus_method()
    def AboutToShow(self, item_id: DBusInt32) -> DBusBool:
        return False

    @dbus_method()
    def AboutToShowGroup(
        self, ids: IntList
    ) -> Annotated[tuple[list[int], list[int]], DBusSignature("aiai")]:
        return ([], [])

    @dbus_signal()
    def LayoutUpdated(self) -> Annotated[tuple[int, int], DBusSignature("ui")]:
        return (self.revision, 0)

    @dbus_signal()
    def ItemsPropertiesUpdated(
        self,
    ) -> Annotated[
        tuple[list[tuple[int, dict[str, Variant]]], list[tuple[int, list[str]]]],
        DBusSignature("a(ia{sv})a(ias)"),
    ]:
        return ([], [])

    def click(self, item_id: int, event_id: str) -> None:
        """A host reported an event on an item: run a clicked entry's action."""
        entry = self._entries.get(item_id)
        if event_id == "clicked" and entry is not None and entry.enabled and entry.on_click:
            entry.on_click()
