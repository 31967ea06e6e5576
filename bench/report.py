#!/usr/bin/env python3
"""Turns bench/run.sh's raw results (TSV) into per-case tables, on stdout and as markdown.

    python3 report.py RESULTS.tsv META.txt OUT.md

RESULTS.tsv columns (tab-separated, header line first):
    case  desc  server  variant  status  requests  bytes  duration_us  p50_us  p99_us
    err_status  err_socket  rss_kib  server_cpu_pct  client_core_pct  wrk_cpu_pct  other_cpu_pct
`server` is nginx/fastify/hyper/kino/kino-hyper/kino-nginx; nginx and kino-nginx appear once per `variant`
(tcp_nopush on / off) and the better (more requests/s) of the two is the one shown in the case's
table. Every server is also given as a ratio to that better nginx: req/s ÷ nginx and
p99 ÷ nginx; the goal for kino and kino-nginx is req/s ≥ 0.9× and p99 ≤ 1.5× nginx's.
"""
import csv
import sys

ORDER = ["nginx", "fastify", "hyper", "kino", "kino-hyper", "kino-nginx"]
GOAL_SERVERS = ["kino", "kino-nginx"]
GOAL_RPS = 0.9   # at least this share of nginx's req/s
GOAL_P99 = 1.5   # at most this multiple of nginx's p99


def fnum(x, digits=0):
    return f"{x:,.{digits}f}"


def ms(us):
    us = float(us)
    return f"{us / 1000:.2f}" if us < 100_000 else f"{us / 1000:,.0f}"


def ok(r):
    return r is not None and r["status"] == "ok"


def rps(r):
    return int(r["requests"]) / (int(r["duration_us"]) / 1e6) if ok(r) else -1


def mbps(r):
    return int(r["bytes"]) / (int(r["duration_us"]) / 1e6) / 1e6


def ratios(r, nginx):
    """(req/s ÷ nginx, p99 ÷ nginx), None where either side has no figure."""
    if not ok(r) or not ok(nginx) or rps(nginx) <= 0:
        return None, None
    rr = rps(r) / rps(nginx)
    p99 = int(r["p99_us"]) / int(nginx["p99_us"]) if int(nginx["p99_us"]) > 0 else None
    return rr, p99


def times(x):
    return f"{x:.2f}×" if x is not None else "-"


def meets_goal(rr, p99):
    return rr is not None and p99 is not None and rr >= GOAL_RPS and p99 <= GOAL_P99


def row_values(r, nginx):
    if not ok(r):
        return [r["label"], r["status"]] + [""] * (len(HEAD) - 2)
    secs = int(r["duration_us"]) / 1e6
    rr, p99 = ratios(r, nginx)
    return [
        r["label"], fnum(rps(r), 0), fnum(mbps(r), 0), ms(r["p50_us"]), ms(r["p99_us"]),
        times(rr), times(p99),
        fnum(int(r["rss_kib"]) / 1024, 1), r["err_status"], r["err_socket"],
        r["server_cpu_pct"], cpu_per_gb(r), r["client_core_pct"],
    ]


def cpu_per_gb(r):
    gb = int(r["bytes"]) / 1e9
    cpu_s = int(r["server_cpu_pct"]) / 100 * int(r["duration_us"]) / 1e6
    return f"{cpu_s / gb:.2f}" if gb else "-"


HEAD = ["server", "req/s", "MB/s", "p50 ms", "p99 ms", "req/s ÷ nginx", "p99 ÷ nginx", "peak RSS MiB",
        "non-2xx", "socket errors", "server CPU %", "CPU s/GB", "wrk core %"]


def text_table(head, rows):
    widths = [max(len(h), 22 if i == 0 else 0) for i, h in enumerate(head)]
    for vals in rows:
        widths = [max(w, len(v)) for w, v in zip(widths, vals)]
    out = ["  ".join(h.rjust(w) if i else h.ljust(w) for i, (h, w) in enumerate(zip(head, widths)))]
    for vals in rows:
        out.append("  ".join(v.rjust(w) if i else v.ljust(w) for i, (v, w) in enumerate(zip(vals, widths))))
    return out


def md_table(head, rows):
    return ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)] + ["| " + " | ".join(v) + " |" for v in rows]


def main():
    rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
    meta = open(sys.argv[2]).read().rstrip("\n")
    out_md = sys.argv[3]

    cases = []
    for r in rows:
        if (r["case"], r["desc"]) not in cases:
            cases.append((r["case"], r["desc"]))

    md = ["# Kino file-delivery benchmark", "", meta, ""]
    summary_at = len(md)
    text = []
    variant_cmp = []
    summary = []
    for case, desc in cases:
        cr = [r for r in rows if r["case"] == case]
        shown = []
        for server in ORDER:
            sr = [r for r in cr if r["server"] == server]
            if not sr:
                continue
            best = max(sr, key=rps)
            best["label"] = f"{server} ({best['variant']})" if best["variant"] else server
            if len(sr) > 1:
                variant_cmp.append((desc, server, sr, best))
            shown.append(best)
        by = {r["server"]: r for r in shown}
        nginx = by.get("nginx")
        table = [row_values(r, nginx) for r in shown]
        md += [f"## {desc}", ""] + md_table(HEAD, table)
        text += ["", desc] + text_table(HEAD, table)
        for r in cr:
            if r["status"] != "ok":
                continue
            name = f"{r['server']}{' (' + r['variant'] + ')' if r['variant'] else ''}"
            other = int(r["other_cpu_pct"])
            if other > 10:
                warn = (f"Warning: during {name}, other processes on this machine used about {other} % of a "
                        "core: rerun on a quiet machine.")
                md += ["", warn]
                text.append("  " + warn)
        md.append("")
        summary.append((case, desc, by))

    servers = [s for s in ORDER if any(s in by for _, _, by in summary)]
    others = [s for s in servers if s != "nginx"]

    # The goal: each server against the better nginx, per case.
    goal_head = ["case"] + [f"{s}: req/s, p99 ÷ nginx" for s in others]
    goal_rows = []
    verdicts = []
    for case, _desc, by in summary:
        vals = [case]
        for s in others:
            r = by.get(s)
            if r is None:
                vals.append("")
                continue
            if not ok(r):
                vals.append(r["status"])
                if s in GOAL_SERVERS:
                    verdicts.append((case, s, False))
                continue
            rr, p99 = ratios(r, by.get("nginx"))
            cell = f"{times(rr)}, {times(p99)}"
            if s in GOAL_SERVERS and rr is not None:
                passed = meets_goal(rr, p99)
                verdicts.append((case, s, passed))
                cell += " pass" if passed else " FAIL"
            vals.append(cell)
        goal_rows.append(vals)
    goal_note = (f"Goal for kino and kino-nginx: req/s ≥ {GOAL_RPS}× nginx and p99 ≤ {GOAL_P99}× nginx "
                 "(nginx: the better tcp_nopush setting per case; kino-nginx: its better setting too).")
    if "nginx" not in servers:
        goal_note = "nginx was not run: no ratios."
    passed = sum(1 for *_, p in verdicts if p)
    tally = f"{passed} of {len(verdicts)} kino / kino-nginx cases meet the goal." if verdicts else ""

    cell = lambda r: f"{fnum(rps(r), 0)} req/s, {fnum(mbps(r), 0)} MB/s, p99 {ms(r['p99_us'])} ms" \
        if ok(r) else (r["status"] if r else "")
    md[summary_at:summary_at] = (
        ["## Against nginx (req/s ÷ nginx, p99 ÷ nginx)", "", goal_note, ""]
        + md_table(goal_head, goal_rows)
        + ([""] + [tally] if tally else [])
        + ["", "## Summary (nginx and kino-nginx: the better tcp_nopush setting per case)", "",
           "| case | " + " | ".join(servers) + " |", "|---|" + "---|" * len(servers)]
        + [f"| {desc} | " + " | ".join(cell(by.get(s)) for s in servers) + " |" for _, desc, by in summary]
        + [""]
    )
    if others and "nginx" in servers:
        text[0:0] = ["Against nginx (req/s ÷ nginx, p99 ÷ nginx)", goal_note] + text_table(goal_head, goal_rows) \
            + ([tally] if tally else [])

    if variant_cmp:
        md += ["## tcp_nopush on vs off (the better one is in the tables above)", "",
               "| case | server | tcp_nopush on req/s | tcp_nopush off req/s | p99 ms (on / off) | better |",
               "|---|---|---|---|---|---|"]
        text += ["", "tcp_nopush on vs off (req/s, p99 ms):"]
        for desc, server, sr, best in variant_cmp:
            byv = {r["variant"]: r for r in sr}
            on, off = byv.get("tcp_nopush on"), byv.get("tcp_nopush off")
            c = lambda r: fnum(rps(r), 0) if ok(r) else (r["status"] if r else "")
            p99 = lambda r: ms(r["p99_us"]) if ok(r) else "-"
            md.append(f"| {desc} | {server} | {c(on)} | {c(off)} | {p99(on)} / {p99(off)} | {best['variant']} |")
            text.append(f"  {desc}, {server}: on {c(on)} ({p99(on)} ms), off {c(off)} ({p99(off)} ms)"
                        f" -> {best['variant']}")
        md.append("")

    md += [
        "Columns: requests/s and MB/s (10^6 bytes/s of response bytes, headers included) over the",
        "measured run; p50/p99 are wrk's latency percentiles; req/s ÷ nginx and p99 ÷ nginx compare",
        "with the better nginx run of the same case (req/s: higher is better; p99: lower is better);",
        "peak RSS is the most resident memory of the server's processes (nginx: master + worker;",
        "kino-nginx: Kino + nginx) from start to the end of the run; non-2xx is wrk's count of",
        "responses with status >= 400; socket errors are connect/read/write errors and timeouts;",
        "server CPU % is the server's CPU time over the run (100 = its one core, which kino-nginx's",
        "two processes share); CPU s/GB is server CPU-seconds per 10^9 bytes sent (lower is cheaper;",
        "the fairest comparison when wrk's core is the limit); wrk core % is how busy wrk's core was",
        "(near 100: the load generator, not the server, may be the limit). With 4 MiB responses on",
        "256 connections a request lasts a large share of the run, and wrk counts only completed",
        "requests but every byte received, so there MB/s is the steadier measure and req/s reads a",
        "little low for every server. hyper is a minimal hyper server answering from memory: the",
        "ceiling for a Rust server on this core. kino-hyper is the same Kino binary with",
        "http.sendfile = false: every request through hyper, none on Kino's own connection loop.",
        "",
    ]
    with open(out_md, "w") as f:
        f.write("\n".join(md))
    print("\n".join(text))


if __name__ == "__main__":
    main()
