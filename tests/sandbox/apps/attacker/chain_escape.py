# fork + setsid + fork, then a chain that forks and exits every few ms, so no pid
# lives long enough to be found by one scan; then the worker exits on its own.
import ctypes
import os
import time


def _chain(marker, until):
    libc = ctypes.CDLL(None)
    while time.monotonic() < until:
        if os.fork():
            os._exit(0)
        libc.prctl(15, marker, 0, 0, 0)  # PR_SET_NAME
        time.sleep(0.005)
    os._exit(0)


def handler(event, context):
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            os.closerange(3, 4096)
            _chain(event["marker"].encode(), time.monotonic() + 60)
        os._exit(0)
    time.sleep(0.3)
    os._exit(1)
