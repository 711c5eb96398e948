# fork + setsid + fork: a grandchild that is no longer in the worker's session,
# named so the test can look for it on the host, then sleep past the timeout.
import ctypes
import os
import time


def handler(event, context):
    marker = event["marker"].encode()
    pid = os.fork()
    if pid == 0:
        os.setsid()
        if os.fork() == 0:
            ctypes.CDLL(None).prctl(15, marker, 0, 0, 0)  # PR_SET_NAME
            time.sleep(600)
        os._exit(0)
    os.waitpid(pid, 0)
    time.sleep(600)
