#!/usr/bin/env python3
"""Registers benchmark files as ready, public videos in a fresh Kino data directory.

    python3 kino_seed.py DATA_DIR ID=PATH [ID=PATH ...]

Run after `kino users create ... --data-dir DATA_DIR`, which creates DATA_DIR/kino.db and runs
the migrations. For each file: one `videos` row (status 'ready', privacy 'public', no owner)
and the bytes at DATA_DIR/media/sources/ID (a hard link when possible, else a copy), which is
where Kino's local blob store keeps originals (`GET /media/ID/original`).

The INSERT is built from the live schema (PRAGMA table_info), and the script stops if the
schema has a required column it does not know or lacks one it expects, rather than guess.
"""
import os
import re
import shutil
import sqlite3
import sys
import time

ID_RE = re.compile(r"^[A-Za-z0-9_-]{12}$")


def main():
    data_dir = sys.argv[1]
    db_path = os.path.join(data_dir, "kino.db")
    if not os.path.exists(db_path):
        sys.exit(f"kino_seed: {db_path} does not exist (run `kino users create` first)")
    sources = os.path.join(data_dir, "media", "sources")
    os.makedirs(sources, exist_ok=True)

    db = sqlite3.connect(db_path)
    cols = {row[1]: row for row in db.execute("PRAGMA table_info(videos)")}
    # row: (cid, name, type, notnull, dflt_value, pk)
    now = int(time.time() * 1000)
    for spec in sys.argv[2:]:
        vid, path = spec.split("=", 1)
        if not ID_RE.match(vid):
            sys.exit(f"kino_seed: {vid!r} is not a Kino video id (12 of [A-Za-z0-9_-])")
        name = os.path.basename(path)
        values = {
            "id": vid,
            "title": f"bench {name}",
            "description": "",
            "status": "ready",
            "progress": 100,
            "error": None,
            "source_name": name,
            "source_bytes": os.path.getsize(path),
            "duration_secs": 10.0,
            "renditions": "[]",
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
            sys.exit(f"kino_seed: videos has required columns this script does not fill: {unknown_required}")
        missing = [c for c in values if c not in cols]
        if missing:
            sys.exit(f"kino_seed: videos lacks columns this script expects: {missing} "
                     f"(schema changed? have {sorted(cols)})")
        names = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        db.execute(f"INSERT OR REPLACE INTO videos ({names}) VALUES ({marks})", list(values.values()))

        blob = os.path.join(sources, vid)
        if os.path.exists(blob):
            os.unlink(blob)
        try:
            os.link(path, blob)
        except OSError:
            shutil.copyfile(path, blob)
    db.commit()
    db.close()


if __name__ == "__main__":
    main()
