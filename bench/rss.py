#!/usr/bin/env python3
"""Peak memory of a server process tree during a benchmark case.

    python3 rss.py PID OUT_FILE

Every 100 ms sums VmRSS over PID and its descendants (nginx: master + worker) and keeps the
maximum. On SIGTERM/SIGINT (or when PID exits) writes to OUT_FILE one line:
    peak_rss_kib=N hwm_kib=M
where hwm_kib is the sum of VmHWM (each process's own lifetime peak, read by the kernel, so
it also catches spikes shorter than 100 ms) over the same processes at the last sample.
"""
import os
import signal
import sys
import time

pid = int(sys.argv[1])
out = sys.argv[2]
stop = False


def on_signal(_signum, _frame):
    global stop
    stop = True


signal.signal(signal.SIGTERM, on_signal)
signal.signal(signal.SIGINT, on_signal)


def tree(root):
    pids, todo = [], [root]
    while todo:
        p = todo.pop()
        pids.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo.extend(int(c) for c in f.read().split())
        except OSError:
            pass
    return pids


def status_kib(p, key):
    try:
        with open(f"/proc/{p}/status") as f:
            for line in f:
                if line.startswith(key):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


peak = 0
hwm = {}
while not stop:
    if not os.path.exists(f"/proc/{pid}"):
        break
    procs = tree(pid)
    peak = max(peak, sum(status_kib(p, "VmRSS:") for p in procs))
    for p in procs:
        hwm[p] = max(hwm.get(p, 0), status_kib(p, "VmHWM:"))
    time.sleep(0.1)

with open(out, "w") as f:
    f.write(f"peak_rss_kib={peak} hwm_kib={sum(hwm.values())}\n")
