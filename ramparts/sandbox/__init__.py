"""Runtime protection: the layers around every worker process.

Most of this package runs *inside* the sandboxed zygote, whose import path
holds only the stdlib, ``ramparts`` and ``pyseccomp``: modules here import
nothing else at module level.  The host-side parts (probing which layers the
kernel allows, the egress gateway, cgroups) say so in their docstrings.
"""
