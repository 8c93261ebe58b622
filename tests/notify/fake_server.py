#!/usr/bin/python3
"""A fake desktop notification server for the window tests (Desktop Notifications Specification 1.2).

Owns org.freedesktop.Notifications on the session bus given by DBUS_SESSION_BUS_ADDRESS (the test's private bus),
records every call as one JSON object per line in --log, and lets the test act as the user:

    dbus-send --session --print-reply --dest=org.freedesktop.Notifications /org/freedesktop/Notifications \
        org.dialtone.Test.InvokeAction uint32:ID string:answer

emits ActionInvoked(ID, "answer") and then NotificationClosed(ID, 2), as a real server does when the user picks an
action of a notification. The first line of the log is {"ready": true} once the name is owned.

Needs Debian's python3-dbus and python3-gi (run it with /usr/bin/python3).
"""

import argparse
import json
import sys

import dbus
import dbus.service
from dbus.mainloop.glib import DBusGMainLoop
from gi.repository import GLib

BUS_NAME = "org.freedesktop.Notifications"
PATH = "/org/freedesktop/Notifications"
IFACE = "org.freedesktop.Notifications"
TEST_IFACE = "org.dialtone.Test"


class Server(dbus.service.Object):
    def __init__(self, bus, log):
        super().__init__(bus, PATH)
        self.log = log
        self.next_id = 1
        self.open = set()

    def record(self, entry):
        self.log.write(json.dumps(entry) + "\n")
        self.log.flush()

    @dbus.service.method(IFACE, in_signature="", out_signature="as")
    def GetCapabilities(self):
        self.record({"method": "GetCapabilities"})
        return ["actions", "body"]

    @dbus.service.method(IFACE, in_signature="", out_signature="ssss")
    def GetServerInformation(self):
        return ("dialtone-fake", "dialtone tests", "1.0", "1.2")

    @dbus.service.method(IFACE, in_signature="susssasa{sv}i", out_signature="u", sender_keyword="sender")
    def Notify(self, app_name, replaces_id, app_icon, summary, body, actions, hints, expire_timeout, sender=None):
        if replaces_id and replaces_id in self.open:
            nid = int(replaces_id)
        else:
            nid = self.next_id
            self.next_id += 1
        self.open.add(nid)
        self.record({
            "method": "Notify",
            "id": nid,
            "sender": str(sender),
            "app_name": str(app_name),
            "summary": str(summary),
            "body": str(body),
            # [key, label, key, label, ...] as the specification sends them
            "actions": [str(a) for a in actions],
            "hints": sorted(str(k) for k in hints.keys()),
            "expire_timeout": int(expire_timeout),
        })
        return dbus.UInt32(nid)

    @dbus.service.method(IFACE, in_signature="u", out_signature="")
    def CloseNotification(self, nid):
        self.record({"method": "CloseNotification", "id": int(nid)})
        if int(nid) in self.open:
            self.open.discard(int(nid))
            self.NotificationClosed(dbus.UInt32(nid), dbus.UInt32(3))

    @dbus.service.signal(IFACE, signature="uu")
    def NotificationClosed(self, nid, reason):
        pass

    @dbus.service.signal(IFACE, signature="us")
    def ActionInvoked(self, nid, action_key):
        pass

    @dbus.service.method(TEST_IFACE, in_signature="us", out_signature="")
    def InvokeAction(self, nid, action_key):
        self.record({"method": "InvokeAction", "id": int(nid), "action": str(action_key)})
        self.ActionInvoked(dbus.UInt32(nid), str(action_key))
        if int(nid) in self.open:
            self.open.discard(int(nid))
            self.NotificationClosed(dbus.UInt32(nid), dbus.UInt32(2))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--log", required=True, help="JSON-lines file to record the calls in")
    args = parser.parse_args()
    DBusGMainLoop(set_as_default=True)
    bus = dbus.SessionBus()
    log = open(args.log, "a", encoding="utf-8")
    name = dbus.service.BusName(BUS_NAME, bus, do_not_queue=True)
    server = Server(bus, log)
    server.record({"ready": True, "name": name.get_name()})
    try:
        GLib.MainLoop().run()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
