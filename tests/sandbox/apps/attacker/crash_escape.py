# fork + setsid + fork, then the worker exits on its own: its subreaper is gone, so
# the grandchild is re-parented to the zygote, out of the worker's subtree.
import ctypes
import os
import time


def handler(event, context):
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            ctypes.CDLL(None).prctl(15, event["marker"].encode(), 0, 0, 0)  # PR_SET_NAME
            os.closerange(3, 4096)  # let go of the worker's socket: the host sees it die
            time.sleep(600)
        os._exit(0)
    time.sleep(0.2)
    os._exit(1)
