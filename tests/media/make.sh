#!/usr/bin/env bash
# Generate a synthetic stand-in for one of the test media files (see README.md beside this script).
#
#   tests/media/make.sh NAME OUTPUT_PATH   write the generated equivalent of NAME to OUTPUT_PATH
#   tests/media/make.sh --list             print every supported NAME, one per line
#
# Everything is made from ffmpeg's built-in lavfi sources (testsrc2, smptebars, aevalsrc, ...):
# no third-party footage. The output is written to a temporary directory next to OUTPUT_PATH and
# moved into place at the end, so an interrupted run never leaves a partial file at OUTPUT_PATH.
set -euo pipefail
set -f # no globbing: filter expressions contain "*"

NAMES=(
    bbb-720p-h264-aac.mp4
    friday-480p-4x3-h264-aac.mp4
    friday.en.vtt
    friday.en.srt
    flower-540p-vp8-vorbis.webm
    people-432p-10fps-noaudio-139s.mp4
    viper-audio-only.mp3
    bbb-opus-audio-only.webm
    phone-4k60-portrait-rot90-h264-aac.mp4
    apple-hevc10-hlg-1080p-rot90.mov
    hdr10-pq-hevc10-1080p-aac.mp4
    concert-1080p50-h264-pcm.mov
    graffiti-1080p60-h264-dolbyvision-noaudio.mp4
    bbb-1080p60-vp8-vorbis51.webm
    bbb-540p60-vp9-vorbis51.webm
    bbb-1080p24-mpeg2-mp2.ts
    mkv-1080x720-h264-ac3-subrip.mkv
    flower-portrait-540x960.mp4
    flower-rotated-metadata.mp4
    bbb-720p-vfr-h264-aac.mp4
    bbb-1080i30-mpeg2-interlaced.ts
    bad-empty.mp4
    bad-not-a-video.mp4
    bad-truncated.mp4
    bad-truncated-faststart.mp4
    hostile-hls-playlist.mp4
    evil.mp4
)

usage() {
    echo "usage: $0 NAME OUTPUT_PATH | $0 --list" >&2
    exit 2
}

# ---------------------------------------------------------------------------------------------
# Building blocks

FF=(ffmpeg -nostdin -hide_banner -loglevel error -y)
# Reproducible output where ffmpeg allows it: no version strings, no creation times.
BITEXACT=(-fflags +bitexact -flags:a +bitexact -map_metadata -1 -threads 2)
# -flags:v +bitexact goes with each video encoder except libvpx, which it slows down fourfold.
X264=(-c:v libx264 -preset ultrafast -pix_fmt yuv420p -flags:v +bitexact)
X265=(-c:v libx265 -preset ultrafast -pix_fmt yuv420p10le -profile:v main10 -tag:v hvc1 -flags:v +bitexact)
MPEG2=(-c:v mpeg2video -pix_fmt yuv420p)
# VP8 in realtime mode picks its speed from wall-clock timing unless cpu-used is negative.
VP8_RT=(-c:v libvpx -deadline realtime -cpu-used -8)
VP9_RT=(-c:v libvpx-vp9 -deadline realtime -cpu-used 8) # (-row-mt 1 is not deterministic under load)

# video SIZE RATE DURATION: a moving test pattern (lavfi input arguments).
video() {
    echo "-f lavfi -i testsrc2=size=$1:rate=$2:duration=$3"
}

# tone LAYOUT RATE DURATION: one distinct sine per channel (lavfi input arguments).
tone() {
    local layout=$1 rate=$2 dur=$3 n exprs="" f
    case $layout in
        mono) n=1 ;;
        stereo) n=2 ;;
        5.1) n=6 ;;
        *) echo "tone: unknown layout $layout" >&2; exit 1 ;;
    esac
    for ((i = 0; i < n; i++)); do
        f=$((330 + 110 * i))
        exprs+="${exprs:+|}0.25*sin(2*PI*${f}*t)"
    done
    echo "-f lavfi -i aevalsrc=exprs=${exprs}:channel_layout=${layout}:sample_rate=${rate}:duration=${dur}"
}

# rotate IN OUT FORMAT ROTATION: remux (stream copy) adding a display matrix that ffprobe 5.1
# reports as `rotation=ROTATION` (90 or -90). ffmpeg >= 6 has the -display_rotation input option;
# ffmpeg 5.1 only has the `rotate` stream tag, honoured on stream copy (rotate=270 reads back -90).
rotate() {
    local help
    help=$(ffmpeg -hide_banner -h full 2>/dev/null || true)
    if [[ $help == *-display_rotation* ]]; then
        "${FF[@]}" -display_rotation "$4" -i "$1" -map 0 -c copy "${BITEXACT[@]}" -f "$3" "$2"
    else
        "${FF[@]}" -i "$1" -map 0 -c copy "${BITEXACT[@]}" \
            -metadata:s:v:0 rotate=$(((360 + $4) % 360)) -f "$3" "$2"
    fi
}

# cut IN OUT PERCENT: the first PERCENT % of IN's bytes.
cut_percent() {
    local size
    size=$(wc -c <"$1")
    head -c $((size * $3 / 100)) "$1" >"$2"
}

# ---------------------------------------------------------------------------------------------
# Recipes: gen NAME OUT (OUT is inside the private work directory $WORK)

gen() {
    local name=$1 out=$2
    case $name in
    bbb-720p-h264-aac.mp4)
        # 1280x720 25 fps 5.32 s, AAC 48 kHz 5.1; > 200 kB (moov at the end, as a plain mux).
        "${FF[@]}" $(video 1280x720 25 5.32) $(tone 5.1 48000 5.32) -map 0:v -map 1:a \
            "${X264[@]}" -b:v 1500k -g 50 \
            -c:a aac -b:a 192k "${BITEXACT[@]}" -f mp4 "$out"
        ;;
    friday-480p-4x3-h264-aac.mp4)
        # 4:3, audio is stream 0 and video stream 1.
        "${FF[@]}" -f lavfi -i "smptebars=size=640x480:rate=30:duration=6.166" \
            $(tone stereo 44100 6.166) -map 1:a -map 0:v \
            "${X264[@]}" -b:v 300k -c:a aac -b:a 96k "${BITEXACT[@]}" -f mp4 "$out"
        ;;
    friday.en.vtt)
        printf '%s\n' 'WEBVTT' '' \
            '00:00:00.000 --> 00:00:01.499' 'First cue.' '' \
            '00:00:01.500 --> 00:00:02.999' 'Second cue, with <u>markup</u>.' '' \
            '00:00:03.000 --> 00:00:06.000' 'Third and last cue.' >"$out"
        ;;
    friday.en.srt)
        printf '%s\n' '1' '00:00:00,000 --> 00:00:01,499' 'First cue.' '' \
            '2' '00:00:01,500 --> 00:00:02,999' 'Second cue, with <u>markup</u>.' '' \
            '3' '00:00:03,000 --> 00:00:06,000' 'Third and last cue.' >"$out"
        ;;
    flower-540p-vp8-vorbis.webm)
        "${FF[@]}" $(video 960x540 30000/1001 5.06) $(tone stereo 44100 5.06) -map 0:v -map 1:a \
            "${VP8_RT[@]}" -b:v 600k -c:a libvorbis -q:a 2 "${BITEXACT[@]}" -f webm "$out"
        ;;
    people-432p-10fps-noaudio-139s.mp4)
        # The one long clip (139.4 s, no audio): tests kill its transcode half-way.
        "${FF[@]}" $(video 768x432 10 139.4) \
            "${X264[@]}" -b:v 100k -g 50 "${BITEXACT[@]}" -f mp4 "$out"
        ;;
    viper-audio-only.mp3)
        "${FF[@]}" $(tone stereo 44100 10) -c:a libmp3lame -b:a 128k "${BITEXACT[@]}" -f mp3 "$out"
        ;;
    bbb-opus-audio-only.webm)
        "${FF[@]}" $(tone mono 48000 3.008) -c:a libopus -b:a 48k "${BITEXACT[@]}" -f webm "$out"
        ;;
    phone-4k60-portrait-rot90-h264-aac.mp4)
        # 3840x2160 full-range 60 fps, 0.317 s, shown as 2160x3840 (rotation -90).
        "${FF[@]}" $(video 3840x2160 60 0.317) $(tone stereo 48000 0.313) -map 0:v -map 1:a \
            -vf scale=out_range=full,format=yuvj420p -color_range pc \
            -c:v libx264 -preset ultrafast -flags:v +bitexact -b:v 20M \
            -c:a aac -b:a 128k "${BITEXACT[@]}" -f mp4 "$WORK/plain.mp4"
        rotate "$WORK/plain.mp4" "$out" mp4 -90
        ;;
    apple-hevc10-hlg-1080p-rot90.mov)
        # HEVC Main 10 HLG in QuickTime, shown as 1080x1920 (rotation -90).
        "${FF[@]}" $(video 1920x1080 30000/1001 2.0) $(tone stereo 44100 2.0) -map 0:v -map 1:a \
            "${X265[@]}" -b:v 4M -x265-params log-level=error \
            -color_primaries bt2020 -color_trc arib-std-b67 -colorspace bt2020nc -color_range tv \
            -c:a aac -b:a 128k "${BITEXACT[@]}" -f mov "$WORK/plain.mov"
        rotate "$WORK/plain.mov" "$out" mov -90
        ;;
    hdr10-pq-hevc10-1080p-aac.mp4)
        "${FF[@]}" $(video 1920x1080 30 1.0) $(tone stereo 48000 1.0) -map 0:v -map 1:a \
            "${X265[@]}" -b:v 4M -x265-params log-level=error \
            -color_primaries bt2020 -color_trc smpte2084 -colorspace bt2020nc -color_range tv \
            -c:a aac -b:a 128k "${BITEXACT[@]}" -f mp4 "$out"
        ;;
    concert-1080p50-h264-pcm.mov)
        "${FF[@]}" $(video 1920x1080 50 2.0) $(tone stereo 48000 2.0) -map 0:v -map 1:a \
            "${X264[@]}" -b:v 4M -c:a pcm_s16le "${BITEXACT[@]}" -f mov "$out"
        ;;
    graffiti-1080p60-h264-dolbyvision-noaudio.mp4)
        # 59.94 fps, no audio; testsrc2 draws a running clock for frame-accurate checks.
        # (The real clip's Dolby Vision side data is not reproduced.)
        "${FF[@]}" $(video 1920x1080 60000/1001 1.285) \
            "${X264[@]}" -b:v 6M "${BITEXACT[@]}" -f mp4 "$out"
        ;;
    bbb-1080p60-vp8-vorbis51.webm)
        "${FF[@]}" $(video 1920x1080 60 1.0) $(tone 5.1 48000 1.0) -map 0:v -map 1:a \
            "${VP8_RT[@]}" -b:v 3M -c:a libvorbis -q:a 2 "${BITEXACT[@]}" -f webm "$out"
        ;;
    bbb-540p60-vp9-vorbis51.webm)
        "${FF[@]}" $(video 960x540 60 1.0) $(tone 5.1 48000 1.0) -map 0:v -map 1:a \
            "${VP9_RT[@]}" -b:v 1M \
            -c:a libvorbis -q:a 2 "${BITEXACT[@]}" -f webm "$out"
        ;;
    bbb-1080p24-mpeg2-mp2.ts)
        # Broadcast-style TS whose timestamps do not start at 0.
        "${FF[@]}" $(video 1920x1080 24 2.5) $(tone stereo 44100 2.5) -map 0:v -map 1:a \
            "${MPEG2[@]}" -flags:v +bitexact -b:v 5M -maxrate 8M -bufsize 4M \
            -c:a mp2 -b:a 192k -output_ts_offset 0.1 "${BITEXACT[@]}" -f mpegts "$out"
        ;;
    mkv-1080x720-h264-ac3-subrip.mkv)
        printf '%s\n' '1' '00:00:00,000 --> 00:00:01,000' 'This is the first subtitle.' >"$WORK/sub.srt"
        "${FF[@]}" $(video 1080x720 30000/1001 1.234) $(tone mono 44100 1.234) -i "$WORK/sub.srt" \
            -map 0:v -map 1:a -map 2:s "${X264[@]}" -b:v 500k \
            -c:a ac3 -b:a 96k -c:s srt -metadata:s:s:0 language=eng "${BITEXACT[@]}" -f matroska "$out"
        ;;
    flower-portrait-540x960.mp4)
        # Portrait pixels, no rotation metadata.
        "${FF[@]}" $(video 540x960 30000/1001 5.055) $(tone stereo 48000 5.055) -map 0:v -map 1:a \
            "${X264[@]}" -b:v 600k -c:a aac -b:a 128k "${BITEXACT[@]}" -f mp4 "$out"
        ;;
    flower-rotated-metadata.mp4)
        # Landscape pixels plus a display matrix (rotation 90): shown as 540x960.
        "${FF[@]}" $(video 960x540 30000/1001 5.055) $(tone stereo 48000 5.055) -map 0:v -map 1:a \
            "${X264[@]}" -b:v 600k -c:a aac -b:a 128k "${BITEXACT[@]}" -f mp4 "$WORK/plain.mp4"
        rotate "$WORK/plain.mp4" "$out" mp4 90
        ;;
    bbb-720p-vfr-h264-aac.mp4)
        # 25 fps, then every third frame only from 2 s to 4 s: r_frame_rate 25, avg ~18.8.
        "${FF[@]}" $(video 1280x720 25 5.32) $(tone 5.1 48000 5.32) -map 0:v -map 1:a \
            -vf "select='lt(t\,2)+gte(t\,4)+not(mod(n\,3))'" -fps_mode vfr \
            "${X264[@]}" -b:v 1500k -c:a aac -b:a 192k "${BITEXACT[@]}" -f mp4 "$out"
        ;;
    bbb-1080i30-mpeg2-interlaced.ts)
        # 60 progressive frames/s with fast horizontal motion woven into 30 TFF frames/s, so
        # every frame really combs (idet reports TFF).
        "${FF[@]}" -f lavfi -i "testsrc2=size=1920x1080:rate=60:duration=1.0,scroll=horizontal=0.01" \
            $(tone stereo 48000 1.0) -map 0:v -map 1:a \
            -vf "interlace=scan=tff:lowpass=linear" \
            "${MPEG2[@]}" -flags:v +ilme+ildct+bitexact -top 1 -b:v 12M -maxrate 15M -bufsize 8M \
            -c:a mp2 -b:a 192k "${BITEXACT[@]}" -f mpegts "$out"
        ;;
    bad-empty.mp4)
        : >"$out"
        ;;
    bad-not-a-video.mp4)
        printf 'This is a plain text file, not a video.\nIt only has an .mp4 name.\n' >"$out"
        ;;
    bad-truncated.mp4)
        # First 30 % of a plain (non-faststart) MP4: the moov atom at the end is missing.
        gen bbb-720p-h264-aac.mp4 "$WORK/full.mp4"
        cut_percent "$WORK/full.mp4" "$out" 30
        ;;
    bad-truncated-faststart.mp4)
        # moov first, then half the media data: probes fine, decoding fails half-way.
        gen bbb-720p-h264-aac.mp4 "$WORK/full.mp4"
        "${FF[@]}" -i "$WORK/full.mp4" -map 0 -c copy "${BITEXACT[@]}" -movflags +faststart \
            -f mp4 "$WORK/faststart.mp4"
        cut_percent "$WORK/faststart.mp4" "$out" 50
        ;;
    hostile-hls-playlist.mp4)
        printf '#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10.0,\nfile:///etc/passwd\n#EXT-X-ENDLIST\n' >"$out"
        ;;
    evil.mp4)
        printf '#EXTM3U\n#EXTINF:1,\nfile:///etc/passwd\n' >"$out"
        ;;
    *)
        echo "make.sh: unknown media name: $name (see $0 --list)" >&2
        exit 2
        ;;
    esac
}

# ---------------------------------------------------------------------------------------------

[[ $# -ge 1 ]] || usage
if [[ $1 == --list ]]; then
    [[ $# -eq 1 ]] || usage
    printf '%s\n' "${NAMES[@]}"
    exit 0
fi
[[ $# -eq 2 ]] || usage
NAME=$1
OUT=$2

known=0
for n in "${NAMES[@]}"; do
    [[ $n == "$NAME" ]] && known=1
done
if [[ $known -eq 0 ]]; then
    echo "make.sh: unknown media name: $NAME (see $0 --list)" >&2
    exit 2
fi

OUT_DIR=$(dirname -- "$OUT")
mkdir -p -- "$OUT_DIR"
WORK=$(mktemp -d "$OUT_DIR/.make-media.XXXXXX")
trap 'rm -rf -- "$WORK"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

gen "$NAME" "$WORK/result"
mv -f -- "$WORK/result" "$OUT"
