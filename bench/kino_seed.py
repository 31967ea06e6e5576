#!/usr/bin/env python3
"""Registers benchmark files as ready, public videos in a fresh Kino data directory.

    python3 kino_seed.py DATA_DIR [ID=PATH ...] [--hls ID=SEG[,SEG...] ...]

Run after `kino users create ... --data-dir DATA_DIR`, which creates DATA_DIR/kino.db and runs
the migrations. Each video gets one `videos` row (status 'ready', privacy 'public', no owner).

- `ID=PATH`: PATH is the video's original, placed at DATA_DIR/media/sources/ID — where Kino's
  local blob store keeps originals (`keys::source`, served at `GET /media/ID/original`).
- `--hls ID=SEG[,SEG...]`: the files SEG are the media segments of a one-rendition HLS ladder
  (`--rendition`, default `720p`), placed as `keys::hls(ID, "720p/seg_00001.m4s")`, ... —
  DATA_DIR/media/videos/ID/hls/720p/seg_00001.m4s — next to a small `init.mp4`, the media
  playlist `720p/index.m3u8` and the multivariant playlist `master.m3u8` (written like
  `media::playlist::write_multivariant`), and the row's `renditions` lists that rendition
  (`video::Rendition`: name, width, height, bandwidth, average_bandwidth, codecs, frame_rate,
  duration, bytes, segments). Served at `GET /hls/ID/master.m3u8`,
  `/hls/ID/720p/index.m3u8` and `/hls/ID/720p/seg_00001.m4s`.

An ID may be given both ways (an original and a ladder). Media files are hard links when
possible, else copies. The bytes are not real video: Kino serves them without looking inside.

The INSERT is built from the live schema (PRAGMA table_info), and the script stops if the
schema has a required column it does not know or lacks one it expects, rather than guess.
"""
import argparse
import json
import math
import os
import re
import shutil
import sqlite3
import time

ID_RE = re.compile(r"^[A-Za-z0-9_-]{12}$")
RENDITION_RE = re.compile(r"^[A-Za-z0-9_-]+$")
MEDIA_PLAYLIST = "index.m3u8"       # media::transcode::MEDIA_PLAYLIST
MULTIVARIANT = "master.m3u8"        # media::playlist::MULTIVARIANT_PLAYLIST
INIT = "init.mp4"                   # ffmpeg's -hls_fmp4_init_filename in media::transcode
CODECS = "avc1.64001f,mp4a.40.2"


def place(src, dst):
    """Puts the bytes of `src` at `dst`: a hard link when possible, else a copy."""
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    if os.path.lexists(dst):
        os.unlink(dst)
    try:
        os.link(src, dst)
    except OSError:
        shutil.copyfile(src, dst)


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def seed_ladder(media, vid, segments, rendition, seg_secs):
    """Writes the ladder files of `vid`; returns its `renditions` list."""
    hls = os.path.join(media, "videos", vid, "hls")
    if os.path.isdir(hls):
        shutil.rmtree(hls)
    rdir = os.path.join(hls, rendition)
    # Not a real init segment: a fixed 1 KiB so the playlist's EXT-X-MAP resolves.
    init = (b"\x00\x00\x00\x18ftypiso6\x00\x00\x00\x00iso6dash" + bytes(range(256)) * 4)[:1024]
    write(os.path.join(rdir, INIT), init)
    sizes = []
    lines = [
        "#EXTM3U", "#EXT-X-VERSION:7", f"#EXT-X-TARGETDURATION:{math.ceil(seg_secs)}",
        "#EXT-X-MEDIA-SEQUENCE:1", "#EXT-X-PLAYLIST-TYPE:VOD", "#EXT-X-INDEPENDENT-SEGMENTS",
        f'#EXT-X-MAP:URI="{INIT}"',
    ]
    for n, src in enumerate(segments, start=1):
        name = f"seg_{n:05d}.m4s"
        place(src, os.path.join(rdir, name))
        sizes.append(os.path.getsize(src))
        lines += [f"#EXTINF:{seg_secs:.6f},", name]
    lines.append("#EXT-X-ENDLIST")
    write(os.path.join(rdir, MEDIA_PLAYLIST), ("\n".join(lines) + "\n").encode())

    duration = seg_secs * len(segments)
    r = {
        "name": rendition,
        "width": 1280,
        "height": 720,
        "bandwidth": math.ceil(max(sizes) * 8 / seg_secs),
        "average_bandwidth": math.ceil(sum(sizes) * 8 / duration),
        "codecs": CODECS,
        "frame_rate": 30.0,
        "duration": duration,
        "bytes": len(init) + sum(sizes),
        "segments": len(sizes),
    }
    master = (
        "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n"
        f'#EXT-X-STREAM-INF:BANDWIDTH={r["bandwidth"]},AVERAGE-BANDWIDTH={r["average_bandwidth"]},'
        f'CODECS="{r["codecs"]}",RESOLUTION={r["width"]}x{r["height"]},FRAME-RATE={r["frame_rate"]:.3f}\n'
        f"{rendition}/{MEDIA_PLAYLIST}\n"
    )
    write(os.path.join(hls, MULTIVARIANT), master.encode())
    return [r]


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("data_dir")
    p.add_argument("originals", nargs="*", metavar="ID=PATH")
    p.add_argument("--hls", action="append", default=[], metavar="ID=SEG[,SEG...]")
    p.add_argument("--rendition", default="720p")
    p.add_argument("--segment-secs", type=float, default=4.0)
    a = p.parse_intermixed_args()
    if not RENDITION_RE.match(a.rendition):
        p.error(f"--rendition {a.rendition!r}: letters, digits, _ and - only")

    videos = {}  # id -> {"original": path, "segments": [paths]}
    for spec in a.originals:
        vid, path = spec.split("=", 1)
        videos.setdefault(vid, {})["original"] = path
    for spec in a.hls:
        vid, segs = spec.split("=", 1)
        videos.setdefault(vid, {})["segments"] = [s for s in segs.split(",") if s]
    if not videos:
        p.error("nothing to seed")

    db_path = os.path.join(a.data_dir, "kino.db")
    if not os.path.exists(db_path):
        p.exit(1, f"kino_seed: {db_path} does not exist (run `kino users create` first)\n")
    media = os.path.join(a.data_dir, "media")

    db = sqlite3.connect(db_path)
    cols = {row[1]: row for row in db.execute("PRAGMA table_info(videos)")}
    # row: (cid, name, type, notnull, dflt_value, pk)
    now = int(time.time() * 1000)
    for vid, v in videos.items():
        if not ID_RE.match(vid):
            p.exit(1, f"kino_seed: {vid!r} is not a Kino video id (12 of [A-Za-z0-9_-])\n")
        files = ([v["original"]] if "original" in v else []) + v.get("segments", [])
        for f in files:
            if not os.path.isfile(f):
                p.exit(1, f"kino_seed: {f} is not a file\n")
        renditions = []
        if v.get("segments"):
            renditions = seed_ladder(media, vid, v["segments"], a.rendition, a.segment_secs)
        if "original" in v:
            place(v["original"], os.path.join(media, "sources", vid))
        name = os.path.basename(files[0])
        values = {
            "id": vid,
            "title": f"bench {name}",
            "description": "",
            "status": "ready",
            "progress": 100,
            "error": None,
            "source_name": name,
            "source_bytes": os.path.getsize(files[0]),
            "duration_secs": renditions[0]["duration"] if renditions else 10.0,
            "renditions": json.dumps(renditions),
            "has_poster": 0,
            "created_at": now,
            "updated_at": now,
            "owner_id": None,
            "privacy": "public",
        }
        unknown_required = [
            c for c, (_, _, _, notnull, dflt, pk) in cols.items()
            if c not in values and notnull and dflt is None and not pk
        ]
        if unknown_required:
            p.exit(1, f"kino_seed: videos has required columns this script does not fill: {unknown_required}\n")
        missing = [c for c in values if c not in cols]
        if missing:
            p.exit(1, f"kino_seed: videos lacks columns this script expects: {missing} "
                      f"(schema changed? have {sorted(cols)})\n")
        names = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        db.execute(f"INSERT OR REPLACE INTO videos ({names}) VALUES ({marks})", list(values.values()))
    db.commit()
    db.close()


if __name__ == "__main__":
    main()
