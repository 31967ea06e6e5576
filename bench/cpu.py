#!/usr/bin/env python3
"""CPU accounting around one measured run of bench/run.sh.

    python3 cpu.py before SNAP_FILE SERVER_PID BENCH_PID CLIENT_CORE
    python3 cpu.py after  SNAP_FILE SERVER_PID BENCH_PID CLIENT_CORE WRK_CPU_SECS
    -> server_cpu_pct=N client_core_pct=N wrk_cpu_pct=N other_cpu_pct=N

- server_cpu_pct: CPU time of the server's process tree over the run (100 = one core).
- client_core_pct: how busy wrk's core was, interrupt and softirq time included (on loopback
  the kernel's copy of every received byte is done there).
- wrk_cpu_pct: wrk's own CPU time (WRK_CPU_SECS, measured by run.sh from its rusage).
- other_cpu_pct: CPU time of every other user-space process on the machine (not the server, not
  run.sh and what it started, not kernel threads), as a share of one core. More than a few
  percent means something else was running and the numbers are suspect. Processes that exit
  during the run are counted through their parent's reaped-children time, so a build that
  finishes a compiler process during the run may be over-counted: that is a warning anyway.
"""
import json
import os
import sys
import time

HZ = os.sysconf("SC_CLK_TCK")
PF_KTHREAD = 0x00200000


def stat(pid):
    with open(f"/proc/{pid}/stat") as f:
        head, rest = f.read().rsplit(")", 1)
    v = rest.split()
    # after the command: state(0) ppid(1) ... flags(6) ... utime(11) stime(12) cutime(13) cstime(14)
    # ... starttime(19)
    return {
        "ppid": int(v[1]),
        "kthread": bool(int(v[6]) & PF_KTHREAD),
        "own": int(v[11]) + int(v[12]),
        "all": int(v[11]) + int(v[12]) + int(v[13]) + int(v[14]),
        "start": int(v[19]),
    }


def snapshot():
    procs = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                procs[int(name)] = stat(name)
            except (OSError, IndexError, ValueError):
                pass
    return procs


def tree(procs, root):
    kids = {}
    for pid, p in procs.items():
        kids.setdefault(p["ppid"], []).append(pid)
    out, todo = set(), [root]
    while todo:
        p = todo.pop()
        if p not in out:
            out.add(p)
            todo.extend(kids.get(p, []))
    return out


def core_ticks(n):
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith(f"cpu{n} "):
                v = [int(x) for x in line.split()[1:]]
                total = sum(v[:8])  # user nice system idle iowait irq softirq steal
                return total - v[3] - v[4], total
    return 0, 0


def take(server_pid, bench_pid, client_core):
    procs = snapshot()
    server = tree(procs, server_pid)
    busy, total = core_ticks(client_core)
    return {
        "mono": time.monotonic(),
        "server": sum(procs[p]["own"] for p in server if p in procs),
        "client_busy": busy,
        "client_total": total,
        "procs": procs,
        "bench": sorted(tree(procs, bench_pid)),
    }


def main():
    mode, snap_file = sys.argv[1], sys.argv[2]
    server_pid, bench_pid, client_core = (int(a) for a in sys.argv[3:6])
    now = take(server_pid, bench_pid, client_core)
    if mode == "before":
        now["procs"] = {str(k): v for k, v in now["procs"].items()}
        with open(snap_file, "w") as f:
            json.dump(now, f)
        return
    wrk_secs = float(sys.argv[6])
    with open(snap_file) as f:
        then = json.load(f)
    then_procs = {int(k): v for k, v in then["procs"].items()}
    wall = now["mono"] - then["mono"]
    excluded = set(now["bench"]) | set(then["bench"])
    other = 0
    for pid, p in now["procs"].items():
        if pid in excluded or p["kthread"]:
            continue
        old = then_procs.get(pid)
        if old is not None and old["start"] == p["start"]:
            other += max(0, p["all"] - old["all"])
        else:
            other += p["all"]  # started during the run
    pct = lambda ticks: 100 * ticks / HZ / wall
    print(
        f"server_cpu_pct={pct(now['server'] - then['server']):.0f} "
        f"client_core_pct={100 * (now['client_busy'] - then['client_busy']) / max(1, now['client_total'] - then['client_total']):.0f} "
        f"wrk_cpu_pct={100 * wrk_secs / wall:.0f} "
        f"other_cpu_pct={pct(other):.0f}"
    )


if __name__ == "__main__":
    main()
