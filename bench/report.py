#!/usr/bin/env python3
"""Turns bench/run.sh's raw results (TSV) into per-case tables, on stdout and as markdown.

    python3 report.py RESULTS.tsv META.txt OUT.md

RESULTS.tsv columns (tab-separated, header line first):
    case  desc  server  variant  status  requests  bytes  duration_us  p50_us  p99_us
    err_status  err_socket  rss_kib
`server` is nginx/fastify/kino; nginx appears once per `variant` (tcp_nopush on / off) and the
better (more requests/s) of the two is the one shown in the case's table.
"""
import csv
import sys

ORDER = ["nginx", "fastify", "kino"]


def fnum(x, digits=0):
    return f"{x:,.{digits}f}"


def ms(us):
    us = float(us)
    return f"{us / 1000:.2f}" if us < 100_000 else f"{us / 1000:,.0f}"


def row_values(r):
    if r["status"] != "ok":
        return [r["label"], r["status"], "", "", "", "", "", "", "", "", ""]
    secs = int(r["duration_us"]) / 1e6
    rps = int(r["requests"]) / secs
    mbps = int(r["bytes"]) / secs / 1e6
    return [
        r["label"], fnum(rps, 0), fnum(mbps, 0), ms(r["p50_us"]), ms(r["p99_us"]),
        fnum(int(r["rss_kib"]) / 1024, 1), r["err_status"], r["err_socket"],
        r["server_cpu_pct"], cpu_per_gb(r), r["client_core_pct"],
    ]


def cpu_per_gb(r):
    gb = int(r["bytes"]) / 1e9
    cpu_s = int(r["server_cpu_pct"]) / 100 * int(r["duration_us"]) / 1e6
    return f"{cpu_s / gb:.2f}" if gb else "-"


HEAD = ["server", "req/s", "MB/s", "p50 ms", "p99 ms", "peak RSS MiB", "non-2xx", "socket errors",
        "server CPU %", "CPU s/GB", "wrk core %"]


def mbps(r):
    return int(r["bytes"]) / (int(r["duration_us"]) / 1e6) / 1e6


def rps(r):
    return int(r["requests"]) / (int(r["duration_us"]) / 1e6) if r["status"] == "ok" else -1


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
    nginx_cmp = []
    summary = []
    for case, desc in cases:
        cr = [r for r in rows if r["case"] == case]
        shown = []
        for server in ORDER:
            sr = [r for r in cr if r["server"] == server]
            if not sr:
                continue
            best = max(sr, key=rps)
            if server == "nginx":
                best["label"] = f"nginx ({best['variant']})" if best["variant"] else "nginx"
                if len(sr) > 1:
                    nginx_cmp.append((desc, sr, best))
            else:
                best["label"] = server
            shown.append(best)
        md += [f"## {desc}", "", "| " + " | ".join(HEAD) + " |", "|" + "---|" * len(HEAD)]
        text += ["", desc]
        widths = [max(len(h), 22 if i == 0 else 0) for i, h in enumerate(HEAD)]
        table = [row_values(r) for r in shown]
        for vals in table:
            widths = [max(w, len(v)) for w, v in zip(widths, vals)]
        text.append("  ".join(h.rjust(w) if i else h.ljust(w) for i, (h, w) in enumerate(zip(HEAD, widths))))
        for vals in table:
            md.append("| " + " | ".join(vals) + " |")
            text.append("  ".join(v.rjust(w) if i else v.ljust(w) for i, (v, w) in enumerate(zip(vals, widths))))
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
        summary.append((desc, {r["server"]: r for r in shown}))

    servers = [s for s in ORDER if any(s in by for _, by in summary)]
    cell = lambda r: f"{fnum(rps(r), 0)} req/s, {fnum(mbps(r), 0)} MB/s, p99 {ms(r['p99_us'])} ms" \
        if r and r["status"] == "ok" else (r["status"] if r else "")
    md[summary_at:summary_at] = [
        "## Summary (nginx: the better tcp_nopush setting per case)", "",
        "| case | " + " | ".join(servers) + " |", "|---|" + "---|" * len(servers),
    ] + [f"| {desc} | " + " | ".join(cell(by.get(s)) for s in servers) + " |" for desc, by in summary] + [""]

    if nginx_cmp:
        md += ["## nginx: tcp_nopush on vs off (the better one is in the tables above)", "",
               "| case | tcp_nopush on req/s | tcp_nopush off req/s | p99 ms (on / off) | better |",
               "|---|---|---|---|---|"]
        text += ["", "nginx tcp_nopush on vs off (req/s, p99 ms):"]
        for desc, sr, best in nginx_cmp:
            by = {r["variant"]: r for r in sr}
            on, off = by.get("tcp_nopush on"), by.get("tcp_nopush off")
            cell = lambda r: fnum(rps(r), 0) if r and r["status"] == "ok" else (r["status"] if r else "")
            p99 = lambda r: ms(r["p99_us"]) if r and r["status"] == "ok" else "-"
            md.append(f"| {desc} | {cell(on)} | {cell(off)} | {p99(on)} / {p99(off)} | {best['variant']} |")
            text.append(f"  {desc}: on {cell(on)} ({p99(on)} ms), off {cell(off)} ({p99(off)} ms) -> {best['variant']}")
        md.append("")

    md += [
        "Columns: requests/s and MB/s (10^6 bytes/s of response bytes, headers included) over the",
        "measured run; p50/p99 are wrk's latency percentiles; peak RSS is the most resident memory of",
        "the server's processes (nginx: master + worker) from start to the end of the run; non-2xx is",
        "wrk's count of responses with status >= 400; socket errors are connect/read/write errors and",
        "timeouts; server CPU % is the server's CPU time over the run (100 = its one core);",
        "CPU s/GB is server CPU-seconds per 10^9 bytes sent (lower is cheaper; the fairest comparison",
        "when wrk's core is the limit); wrk core % is how busy wrk's core was (near 100: the load",
        "generator, not the server, may be the limit). With 4 MiB responses on 256 connections a",
        "request lasts a large share of the run, and wrk counts only completed requests but every byte",
        "received, so there MB/s is the steadier measure and req/s reads a little low for every server.",
        "",
    ]
    with open(out_md, "w") as f:
        f.write("\n".join(md))
    print("\n".join(text))


if __name__ == "__main__":
    main()
