// /proc readings for the live benchmarks: a process's own CPU time, its children, RSS and open
// file descriptors, and the whole machine's busy time. Linux only.

import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

export const HZ = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

/** utime + stime of `pid` itself (threads included, reaped children not), in seconds; null if gone. */
export function cpuSecs(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // after the command: state(0) ppid(1) ... utime(11) stime(12)
    return (Number(f[11]) + Number(f[12])) / HZ;
  } catch {
    return null;
  }
}

/** The command name (`comm`) of `pid`, or null. */
export function comm(pid) {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return null;
  }
}

/** Direct children of `pid`. */
export function children(pid) {
  const out = [];
  try {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      try {
        out.push(...readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').split(' ').filter(Boolean).map(Number));
      } catch { /* the thread ended */ }
    }
  } catch { /* the process ended */ }
  return out;
}

/** `pid` and all its descendants. */
export function tree(pid) {
  const out = [];
  const todo = [pid];
  while (todo.length) {
    const p = todo.pop();
    if (out.includes(p)) continue;
    out.push(p);
    todo.push(...children(p));
  }
  return out;
}

/** A field of /proc/PID/status in KiB (VmRSS, VmHWM), or null. */
export function statusKiB(pid, key = 'VmRSS') {
  try {
    const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** Open file descriptors of `pid`, or null. */
export function fdCount(pid) {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return null;
  }
}

/** Open file descriptors of `pid` by kind: { socket, pipe, db, file, other }, or null. */
export function fdKinds(pid) {
  const out = { socket: 0, pipe: 0, db: 0, file: 0, other: 0 };
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      let target = '';
      try {
        target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      if (target.startsWith('socket:')) out.socket++;
      else if (target.startsWith('pipe:')) out.pipe++;
      else if (/kino\.db/.test(target)) out.db++;
      else if (target.startsWith('/')) out.file++;
      else out.other++;
    }
  } catch {
    return null;
  }
  return out;
}

/** Machine-wide CPU seconds: { busy, total } summed over all cores (from /proc/stat). */
export function machineCpu() {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal guest guest_nice (guest is inside user)
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line;
  const busy = user + nice + system + irq + softirq;
  return { busy: busy / HZ, total: (busy + idle + iowait + steal) / HZ, steal: steal / HZ };
}

/**
 * A CPU meter over an interval: `start()` then `stop()` gives, per named process, the share of
 * one core it used (100 = one whole core), and the machine's busy share of all its cores.
 * `procs()` returns { name: [pids] } and is called at both ends (processes that exit in
 * between are counted up to their last reading at the start only: avoid that).
 */
export function cpuMeter(procs) {
  let t0;
  let first;
  let m0;
  const read = () => {
    const out = {};
    for (const [name, pids] of Object.entries(procs())) {
      out[name] = Object.fromEntries(pids.map((p) => [p, cpuSecs(p)]));
    }
    return out;
  };
  return {
    start() {
      t0 = process.hrtime.bigint();
      first = read();
      m0 = machineCpu();
    },
    stop() {
      const secs = Number(process.hrtime.bigint() - t0) / 1e9;
      const last = read();
      const m1 = machineCpu();
      const result = { secs };
      for (const [name, pids] of Object.entries(last)) {
        let used = 0;
        for (const [pid, s] of Object.entries(pids)) {
          const before = first[name] && first[name][pid] != null ? first[name][pid] : 0;
          if (s != null) used += s - before;
        }
        result[name] = (100 * used) / secs;
      }
      const cores = (m1.total - m0.total) / secs;
      result.machine_busy_pct = (100 * (m1.busy - m0.busy)) / (m1.total - m0.total);
      result.machine_steal_pct = (100 * (m1.steal - m0.steal)) / (m1.total - m0.total);
      result.cores = Math.round(cores);
      return result;
    },
  };
}
