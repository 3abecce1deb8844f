#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""tap-fds.py NAME N FIRST CMD...: opens N queues of tap NAME as libvirt
does (TUNSETIFF with IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, and
IFF_MULTI_QUEUE when N > 1), puts them at descriptors FIRST ... FIRST+N-1,
inheritable, and execs CMD with them (for --net fd=[...])."""
import fcntl
import os
import struct
import sys

TUNSETIFF = 0x400454CA
IFF_TAP, IFF_NO_PI, IFF_VNET_HDR, IFF_MULTI_QUEUE = 0x0002, 0x1000, 0x4000, 0x0100


def main():
    name, n, first, cmd = sys.argv[1].encode(), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
    flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | (IFF_MULTI_QUEUE if n > 1 else 0)
    for want in range(first, first + n):
        fd = os.open("/dev/net/tun", os.O_RDWR)
        fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name, flags))
        if fd != want:
            os.dup2(fd, want)
            os.close(fd)
        os.set_inheritable(want, True)
    os.execvp(cmd[0], cmd)


main()
