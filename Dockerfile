# syntax=docker/dockerfile:1
# Kino in a container: one image for every role of a deployment (see docs/deployment.md).
#   docker build -t kino .
#   docker run -p 8080:8080 -v kino-data:/var/lib/kino kino                    # one box: serve + workers
#   docker run ... kino serve --listen 0.0.0.0:8080 --no-workers               # API node
#   docker run ... kino worker                                                 # transcode worker

# --- build: the release binary, hls.js bundled in by build.rs --------------------------------
FROM rust:1-bookworm AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nodejs npm \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# The front-end packages first (pinned by package-lock.json), so source edits keep this layer.
COPY web/package.json web/package-lock.json web/
RUN cd web && npm ci --no-audit --no-fund --loglevel=error
COPY . .
# target/ and the cargo registry are cache mounts: the binary is copied out in the same step.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked \
 && install -m 0755 target/release/kino /usr/local/bin/kino

# --- runtime: ffmpeg/ffprobe (the media engine), CA roots (S3 over TLS), curl (health checks) --
FROM debian:bookworm-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ffmpeg ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /var/lib/kino --shell /usr/sbin/nologin kino \
 && install -d -o kino -g kino -m 0750 /var/lib/kino
COPY --from=build /usr/local/bin/kino /usr/local/bin/kino
# The data directory: SQLite and media on one box; only per-node scratch space when the
# deployment has a database URL and an object store.
ENV KINO_DATA_DIR=/var/lib/kino
VOLUME ["/var/lib/kino"]
WORKDIR /var/lib/kino
USER kino
EXPOSE 8080
ENTRYPOINT ["kino"]
CMD ["serve", "--listen", "0.0.0.0:8080"]
