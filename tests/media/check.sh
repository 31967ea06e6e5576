#!/usr/bin/env bash
# Generate every test media stand-in into a temporary directory (or DIR) and print a one-line
# ffprobe summary of each with the seconds it took, then the total.
#
#   tests/media/check.sh [DIR]
set -euo pipefail

HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
if [[ $# -ge 1 ]]; then
    DIR=$1
    mkdir -p -- "$DIR"
else
    DIR=$(mktemp -d)
    trap 'rm -rf -- "$DIR"' EXIT
fi

summary() {
    ffprobe -v error -show_entries \
        'format=format_name,duration,start_time:stream=codec_type,codec_name,profile,width,height,pix_fmt,color_transfer,field_order,r_frame_rate,avg_frame_rate,sample_rate,channels:stream_side_data=rotation' \
        -of compact=nokey=0:print_section=0 "$1" 2>&1 | tr '\n' ' ' | sed 's/  */ /g'
}

total_start=$(date +%s.%N)
failed=0
while read -r name; do
    start=$(date +%s.%N)
    if "$HERE/make.sh" "$name" "$DIR/$name"; then
        end=$(date +%s.%N)
        size=$(wc -c <"$DIR/$name")
        printf '%-46s %6.1fs %9d B  %s\n' "$name" "$(awk -v a="$start" -v b="$end" 'BEGIN{print b-a}')" "$size" "$(summary "$DIR/$name")"
    else
        echo "$name: FAILED" >&2
        failed=1
    fi
done < <("$HERE/make.sh" --list)
total_end=$(date +%s.%N)
printf 'total: %.1fs\n' "$(awk -v a="$total_start" -v b="$total_end" 'BEGIN{print b-a}')"
exit $failed
