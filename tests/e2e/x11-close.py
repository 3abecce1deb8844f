#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Asks an X window to close as a window manager's close button does: a
WM_PROTOCOLS client message carrying WM_DELETE_WINDOW. gpu-suite.sh's sdl
case closes phyllome-vmm's window this way (there is no window manager
under Xvfb; xdotool 3.2016 has no such command, and its windowkill ends
the X connection, which is not what a user does). libX11 through ctypes,
as test_display_sdl.c's test_close() does it in C.

Usage: x11-close.py WINDOW_ID   (DISPLAY names the server)
Exit 0 once the message is sent, 1 when X refuses or cannot be reached.
"""
import ctypes
import ctypes.util
import sys

CLIENT_MESSAGE = 33


class ClientMessage(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("serial", ctypes.c_ulong),
                ("send_event", ctypes.c_int), ("display", ctypes.c_void_p),
                ("window", ctypes.c_ulong), ("message_type", ctypes.c_ulong),
                ("format", ctypes.c_int), ("l", ctypes.c_long * 5)]


class XEvent(ctypes.Union):
    # XEvent is 24 longs whatever member is used.
    _fields_ = [("xclient", ClientMessage), ("pad", ctypes.c_long * 24)]


def main():
    if len(sys.argv) != 2:
        print("usage: x11-close.py WINDOW_ID", file=sys.stderr)
        return 2
    win = int(sys.argv[1], 0)
    x = ctypes.CDLL(ctypes.util.find_library("X11") or "libX11.so.6")
    x.XOpenDisplay.restype = ctypes.c_void_p
    x.XOpenDisplay.argtypes = [ctypes.c_char_p]
    x.XInternAtom.restype = ctypes.c_ulong
    x.XInternAtom.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
    x.XSendEvent.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int,
                             ctypes.c_long, ctypes.POINTER(XEvent)]
    x.XSync.argtypes = [ctypes.c_void_p, ctypes.c_int]
    x.XCloseDisplay.argtypes = [ctypes.c_void_p]
    dpy = x.XOpenDisplay(None)
    if not dpy:
        print("x11-close.py: cannot open the X display", file=sys.stderr)
        return 1
    e = XEvent()
    e.xclient.type = CLIENT_MESSAGE
    e.xclient.window = win
    e.xclient.message_type = x.XInternAtom(dpy, b"WM_PROTOCOLS", 0)
    e.xclient.format = 32
    e.xclient.l[0] = x.XInternAtom(dpy, b"WM_DELETE_WINDOW", 0)
    e.xclient.l[1] = 0  # CurrentTime
    ok = x.XSendEvent(dpy, win, 0, 0, ctypes.byref(e))
    x.XSync(dpy, 0)
    x.XCloseDisplay(dpy)
    if not ok:
        print("x11-close.py: XSendEvent failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
