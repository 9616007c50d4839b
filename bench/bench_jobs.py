"""No-op job for the raw RQ baseline of notify_bench.py (same worker class, same run)."""


def noop():
    return None
