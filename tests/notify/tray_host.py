#!/usr/bin/python3
"""A fake system tray for the window tests: a StatusNotifierWatcher (the KDE/freedesktop tray protocol that
libayatana-appindicator, and so Tauri's tray icon on Linux, registers with) on the session bus given by
DBUS_SESSION_BUS_ADDRESS, plus commands that read and click the registered item's menu (com.canonical.dbusmenu), as a
panel would when the user opens it.

    tray_host.py serve --log FILE        own org.kde.StatusNotifierWatcher; log {"ready"} then each registered item
    tray_host.py menu --log FILE         print the first registered item's menu as JSON [{id, label, enabled, toggle}]
    tray_host.py click --log FILE LABEL  send "clicked" to the menu entry with that label (prints its new state,
                                         or {} with --no-readback)

Needs Debian's python3-dbus and python3-gi (run it with /usr/bin/python3).
"""

import argparse
import json
import sys
import time

import dbus
import dbus.service
from dbus.mainloop.glib import DBusGMainLoop
from gi.repository import GLib

WATCHER = "org.kde.StatusNotifierWatcher"
WATCHER_PATH = "/StatusNotifierWatcher"
ITEM_IFACE = "org.kde.StatusNotifierItem"
MENU_IFACE = "com.canonical.dbusmenu"
PROPS = "org.freedesktop.DBus.Properties"


class Watcher(dbus.service.Object):
    def __init__(self, bus, log):
        super().__init__(bus, WATCHER_PATH)
        self.log = log
        self.items = []

    def record(self, entry):
        self.log.write(json.dumps(entry) + "\n")
        self.log.flush()

    @dbus.service.method(WATCHER, in_signature="s", out_signature="", sender_keyword="sender")
    def RegisterStatusNotifierItem(self, service, sender=None):
        # Items pass either a bus name or an object path on their own connection.
        if str(service).startswith("/"):
            name, path = str(sender), str(service)
        else:
            name, path = str(service), "/StatusNotifierItem"
        self.items.append(f"{name}{path}")
        self.record({"item": {"bus_name": name, "path": path}})
        self.StatusNotifierItemRegistered(f"{name}{path}")

    @dbus.service.method(WATCHER, in_signature="s", out_signature="")
    def RegisterStatusNotifierHost(self, service):
        pass

    @dbus.service.signal(WATCHER, signature="s")
    def StatusNotifierItemRegistered(self, service):
        pass

    @dbus.service.signal(WATCHER, signature="")
    def StatusNotifierHostRegistered(self):
        pass

    @dbus.service.method(PROPS, in_signature="ss", out_signature="v")
    def Get(self, interface, prop):
        return self.GetAll(interface)[str(prop)]

    @dbus.service.method(PROPS, in_signature="s", out_signature="a{sv}")
    def GetAll(self, interface):
        return {
            "RegisteredStatusNotifierItems": dbus.Array(self.items, signature="s"),
            "IsStatusNotifierHostRegistered": dbus.Boolean(True),
            "ProtocolVersion": dbus.Int32(0),
        }


def serve(args):
    DBusGMainLoop(set_as_default=True)
    bus = dbus.SessionBus()
    log = open(args.log, "a", encoding="utf-8")
    name = dbus.service.BusName(WATCHER, bus, do_not_queue=True)
    watcher = Watcher(bus, log)
    watcher.record({"ready": True, "name": name.get_name()})
    # A host exists (this one): items check for it before they register.
    watcher.StatusNotifierHostRegistered()
    GLib.MainLoop().run()


def first_item(log_path):
    with open(log_path, encoding="utf-8") as f:
        for line in f:
            entry = json.loads(line)
            if "item" in entry:
                return entry["item"]["bus_name"], entry["item"]["path"]
    sys.exit("no tray item registered yet")


def menu_of(bus, log_path):
    name, path = first_item(log_path)
    item = bus.get_object(name, path)
    menu_path = item.Get(ITEM_IFACE, "Menu", dbus_interface=PROPS)
    return bus.get_object(name, menu_path)


def flatten(layout, out):
    item_id, props, children = layout
    label = str(props.get("label", "")).replace("_", "")
    out.append({
        "id": int(item_id),
        "label": label,
        "enabled": bool(props.get("enabled", True)),
        "visible": bool(props.get("visible", True)),
        "type": str(props.get("type", "standard")),
        "toggle": int(props["toggle-state"]) if "toggle-state" in props else None,
    })
    for child in children:
        flatten(child, out)
    return out


def layout(menu):
    _revision, tree = menu.GetLayout(0, -1, dbus.Array([], signature="s"), dbus_interface=MENU_IFACE)
    return [e for e in flatten(tree, []) if e["id"] != 0]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["serve", "menu", "click"])
    parser.add_argument("label", nargs="?")
    parser.add_argument("--log", required=True)
    parser.add_argument("--no-readback", action="store_true")
    args = parser.parse_args()
    if args.command == "serve":
        serve(args)
        return 0
    bus = dbus.SessionBus()
    menu = menu_of(bus, args.log)
    # A panel announces that it is about to show the menu before reading it.
    try:
        menu.AboutToShow(0, dbus_interface=MENU_IFACE)
    except dbus.DBusException:
        pass
    entries = layout(menu)
    if args.command == "menu":
        print(json.dumps(entries))
        return 0
    matches = [e for e in entries if e["label"] == args.label]
    if not matches:
        sys.exit(f"no menu entry labelled {args.label!r} in {entries}")
    menu.Event(matches[0]["id"], "clicked", dbus.Int32(0, variant_level=1), dbus.UInt32(int(time.time())),
               dbus_interface=MENU_IFACE)
    if args.no_readback:
        print("{}")
        return 0
    time.sleep(0.3)
    print(json.dumps([e for e in layout(menu) if e["id"] == matches[0]["id"]][0]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
