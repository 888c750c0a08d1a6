#!/usr/bin/env bash
# bench/remote.sh: what it costs to learn a registry image's uncompressed
# size, imgsize's cheap path against --exact, a warm cache and the peers
# (skopeo inspect: compressed sizes only; skopeo copy: pull it all).
#
#   bash bench/remote.sh            # from the repository root
#   RUNS=10 bash bench/remote.sh    # more timed runs per command (default 5)
#   IMAGES=single-stage bash bench/remote.sh
#   NO_HYPERFINE=1 bash bench/remote.sh   # time with a loop instead
#
# It builds imgsize and the examples' images into bench/out, starts a real
# registry (CNCF distribution, Debian's docker-registry) on a free
# 127.0.0.1 port with its own config and storage under bench/out/registry,
# pushes the examples with skopeo, and measures every command on the same
# image in one run. Results: bench/out/remote.md (markdown), raw data in
# bench/out/raw. The registry is stopped on exit, whatever happens.
#
# Per command:
#   wall     median of RUNS runs (hyperfine, after one warm-up run; without
#            hyperfine a loop timed with $EPOCHREALTIME), with min-max
#   peak RSS one extra run under /usr/bin/time -v
#   requests, bytes served
#            from the registry's own access log for that extra run: every
#            GET/HEAD on /v2/ and its response-body bytes, for every tool alike
#   own account
#            imgsize: --stats (all kinds; layer bytes in brackets);
#            skopeo copy: blob bytes it wrote; skopeo inspect: the sizes of
#            the manifest and config stored in the registry
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
OUT=bench/out
RAW=$OUT/raw
# The command line as given, for the report: the knobs that were set.
BENCH_CMD="bash bench/remote.sh"
for v in NO_HYPERFINE IMAGES RUNS; do
	if [[ -n ${!v:-} ]]; then BENCH_CMD="$v=${!v} $BENCH_CMD"; fi
done
RUNS=${RUNS:-5}
IMAGES=${IMAGES:-"single-stage multistage"}
IMGSIZE=$OUT/imgsize
CACHE=$OUT/cache
PULLED=$OUT/pulled
REG_DIR=$OUT/registry
REG_LOG=$REG_DIR/registry.log
REG_PID=""

die() { echo "bench/remote.sh: $*" >&2; exit 1; }
need() { command -v "$1" >/dev/null 2>&1 || die "$1 not found${2:+; $2}"; }
need go
need docker-registry "apt-get install -y docker-registry"
need skopeo "apt-get install -y skopeo"
need jq "apt-get install -y jq"
need curl
need gzip
[[ -x /usr/bin/time ]] || die "/usr/bin/time not found; apt-get install -y time"
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive integer, got '$RUNS'"
HYPERFINE=""
if [[ -z ${NO_HYPERFINE:-} ]] && command -v hyperfine >/dev/null 2>&1; then
	HYPERFINE=$(command -v hyperfine)
fi

# The registry's lifecycle (start_registry, stop_registry, on exit) is
# shared with bench/run.
# shellcheck source=bench/lib.sh
source bench/lib.sh

# Lines in the registry log so far, waiting for it to settle: the registry
# logs a request after the response is sent, possibly after the client
# has exited.
log_lines() {
	local a b
	a=$(wc -l <"$REG_LOG")
	while :; do
		sleep 0.1
		b=$(wc -l <"$REG_LOG")
		[[ $a == "$b" ]] && break
		a=$b
	done
	echo "$a"
}

# "requests bytes" of GET/HEAD /v2/ lines after line $1 of the access log
# (combined format: ... "GET /v2/... HTTP/1.1" 206 4 "" "user agent").
served_since() {
	tail -n +"$(($1 + 1))" "$REG_LOG" |
		sed -nE 's/^[^ ]+ - - \[[^]]*\] "(GET|HEAD) \/v2\/[^"]*" [0-9]{3} ([0-9]+|-) .*/\2/p' |
		awk '{ n++; if ($1 != "-") b += $1 } END { printf "%d %d\n", n, b }'
}

# Bytes for humans: SI, like imgsize and docker; exact below 10 kB.
human() {
	awk -v b="$1" 'BEGIN {
		if (b < 10000) { printf "%d B", b; exit }
		split("kB MB GB TB", u, " "); i = 0
		while (b >= 1000 && i < 4) { b /= 1000; i++ }
		printf (b < 100 ? "%.2f %s" : "%.1f %s"), b, u[i]
	}'
}

# "requests bytes layer-bytes" from imgsize --stats on stderr, lines like
#   layer       3 requests       319 B  (319 B)
sum_stats() {
	sed -nE 's/^ +([a-z]+) +([0-9]+) requests? .*\(([0-9]+) B\)$/\1 \2 \3/p' "$1" |
		awk '{ n += $2; t += $3; if ($1 == "layer") l = $3 } END { printf "%d %d %d\n", n, t, l }'
}

# measure ID LABEL KIND PREPARE CMD: time CMD (running PREPARE before each
# run), then run it once more instrumented. Appends a row to ROWS and sets
# MED (seconds) and SERVED (bytes) for ratios.
measure() {
	local id=$1 label=$2 kind=$3 prep=$4 cmd=$5
	local -a argv prepv
	read -ra argv <<<"$cmd"
	read -ra prepv <<<"$prep"
	echo "  $label" >&2
	local med min max
	if [[ -n $HYPERFINE ]]; then
		local -a hp=()
		[[ -n $prep ]] && hp=(--prepare "$prep")
		"$HYPERFINE" -N --style basic --runs "$RUNS" --warmup 1 "${hp[@]}" \
			--export-json "$RAW/$id.hyperfine.json" "$cmd" >>"$RAW/hyperfine.log" 2>&1 ||
			die "hyperfine failed on: $cmd (see $RAW/hyperfine.log)"
		read -r med min max < <(jq -r '.results[0] | "\(.median) \(.min) \(.max)"' "$RAW/$id.hyperfine.json")
	else
		local -a times=()
		local i t0 t1
		for ((i = 0; i <= RUNS; i++)); do # run 0 is the warm-up
			if ((${#prepv[@]})); then "${prepv[@]}"; fi
			t0=$EPOCHREALTIME
			/usr/bin/time -f '%e s %M KB' -o "$RAW/$id.loop.time" "${argv[@]}" >/dev/null 2>&1 ||
				die "failed: $cmd"
			t1=$EPOCHREALTIME
			if ((i > 0)); then
				times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", b - a }')")
			fi
		done
		printf '%s\n' "${times[@]}" >"$RAW/$id.times"
		read -r med min max < <(sort -g "$RAW/$id.times" |
			awk '{ v[NR] = $1 } END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; print m, v[1], v[NR] }')
	fi

	if ((${#prepv[@]})); then "${prepv[@]}"; fi
	local before extra=()
	if [[ $kind == imgsize ]]; then extra=(--stats); fi
	before=$(log_lines)
	/usr/bin/time -v -o "$RAW/$id.time" "${argv[@]}" "${extra[@]}" >"$RAW/$id.stdout" 2>"$RAW/$id.stderr" ||
		die "failed: $cmd $(tail -n 3 "$RAW/$id.stderr")"
	local rss reqs served own
	rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$RAW/$id.time")
	log_lines >/dev/null
	read -r reqs served < <(served_since "$before")
	case $kind in
	imgsize)
		local n tot lay
		read -r n tot lay < <(sum_stats "$RAW/$id.stderr")
		own="$n requests, $(human "$tot") ($(human "$lay") layer)"
		LAYERB=$lay
		;;
	skopeo-copy)
		own="$(human "$(find "$PULLED/blobs" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')") written"
		;;
	skopeo-inspect)
		own="$(human "$((MANIFEST_BYTES + CONFIG_BYTES))") (manifest + config as stored)"
		;;
	esac
	ROWS+=("| $label | $(printf '%.3f' "$med") | $(printf '%.3f–%.3f' "$min" "$max") | $(awk -v k="$rss" 'BEGIN { printf "%.1f", k / 1024 }') | $reqs | $(human "$served") | $own |")
	MED=$med
	SERVED=$served
}

mkdir -p "$OUT"
rm -rf "$RAW" "$CACHE" "$PULLED"
mkdir -p "$RAW"
T0=$EPOCHREALTIME

echo "building imgsize and the examples" >&2
go build -o "$IMGSIZE" ./cmd/imgsize
go run ./examples/build -o "$OUT/examples" >&2

start_registry
echo "registry on $REG (pid $REG_PID)" >&2
for tag in $IMAGES; do
	skopeo copy -q --dest-tls-verify=false "oci:$OUT/examples:$tag" "docker://$REG/hello:$tag"
done

{
	echo "# imgsize remote benchmark"
	echo
	echo "$(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) CPUs ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)), $(go version | cut -d' ' -f3-4), load average $(cut -d' ' -f1-3 /proc/loadavg) at start;"
	echo "$(docker-registry --version | cut -d' ' -f2-) on 127.0.0.1 (loopback: no network latency, so time is mostly CPU);"
	timer="a bash loop (\$EPOCHREALTIME)"
	if [[ -n $HYPERFINE ]]; then timer=$("$HYPERFINE" --version); fi
	echo "$(skopeo --version); timed with $timer, $RUNS runs per command. Command: \`$BENCH_CMD\`."
} >"$OUT/remote.md"

for tag in $IMAGES; do
	ref="$REG/hello:$tag"
	echo "measuring $ref" >&2
	manifest=$(curl -fsS -H 'Accept: application/vnd.oci.image.manifest.v1+json' "http://$REG/v2/hello/manifests/$tag")
	MANIFEST_BYTES=$(printf '%s' "$manifest" | wc -c)
	CONFIG_BYTES=$(jq -r '.config.size' <<<"$manifest")
	nlayers=$(jq -r '.layers | length' <<<"$manifest")
	compressed=$(jq -r '[.layers[].size] | add' <<<"$manifest")

	ROWS=()
	measure "$tag-cheap" "imgsize inspect --no-cache" imgsize "" \
		"$IMGSIZE inspect --no-cache docker://$ref"
	cheap_t=$MED cheap_b=$SERVED cheap_l=$LAYERB
	measure "$tag-exact" "imgsize inspect --no-cache --exact" imgsize "" \
		"$IMGSIZE inspect --no-cache --exact docker://$ref"
	exact_t=$MED exact_b=$SERVED exact_l=$LAYERB
	measure "$tag-cache1" "imgsize inspect, 1st run (empty cache)" imgsize "rm -rf $CACHE" \
		"$IMGSIZE inspect --cache-dir $CACHE docker://$ref"
	"$IMGSIZE" inspect --cache-dir "$CACHE" "docker://$ref" >/dev/null # the cache is full
	measure "$tag-cache2" "imgsize inspect, 2nd run (warm cache)" imgsize "" \
		"$IMGSIZE inspect --cache-dir $CACHE docker://$ref"
	measure "$tag-skopeo-inspect" "skopeo inspect (compressed only)" skopeo-inspect "" \
		"skopeo inspect --tls-verify=false docker://$ref"
	measure "$tag-skopeo-copy" "skopeo copy to oci: (pull it all)" skopeo-copy "rm -rf $PULLED" \
		"skopeo copy -q --src-tls-verify=false docker://$ref oci:$PULLED:$tag"

	# Which way did each layer's size come, and do the figures agree with
	# --exact and with gzip itself?
	"$IMGSIZE" inspect --no-cache --format json "docker://$ref" >"$RAW/$tag.report-cheap.json"
	"$IMGSIZE" inspect --no-cache --exact --format json "docker://$ref" >"$RAW/$tag.report-exact.json"
	u_cheap=$(jq -r '.images[0].uncompressed.bytes' "$RAW/$tag.report-cheap.json")
	u_exact=$(jq -r '.images[0].uncompressed.bytes' "$RAW/$tag.report-exact.json")
	u_gzip=0
	for d in $(jq -r '.layers[].digest' <<<"$manifest"); do
		u_gzip=$((u_gzip + $(gzip -dc "$PULLED/blobs/${d/://}" | wc -c)))
	done
	provs=$(jq -r '[.images[0].layers[] | select(.compressed.bytes > 0) | .uncompressed.provenance] | group_by(.) | map("\(length) \(.[0])") | join(", ")' "$RAW/$tag.report-cheap.json")
	# Layers over 1 KiB whose size did not come from a trailer or header:
	# the cheap path was not taken where it should have been.
	missed=$(jq -r '.images[0].layers[] | select(.compressed.bytes > 1024 and (.uncompressed.provenance | IN("gzip-trailer", "zstd-header", "annotation") | not)) | "layer \(.index): \(.uncompressed.provenance) (\(.uncompressed.reason // "no reason given"))"' "$RAW/$tag.report-cheap.json")

	{
		echo
		echo "## hello:$tag ($nlayers layer$( ((nlayers == 1)) || echo s), $(human "$compressed") compressed, $(human "$u_exact") uncompressed)"
		echo
		echo "| command | wall median (s) | min–max (s) | peak RSS (MiB) | requests | bytes served | own account |"
		echo "|---|--:|--:|--:|--:|--:|---|"
		printf '%s\n' "${ROWS[@]}"
		echo
		awk -v ct="$cheap_t" -v et="$exact_t" -v cb="$cheap_b" -v eb="$exact_b" -v cl="$cheap_l" -v el="$exact_l" 'BEGIN {
			printf "**Cheap path vs --exact: %.1f× less wall time (%.3f s vs %.3f s), %.0f× fewer bytes served (%d B vs %d B in all; layer bytes %d B vs %d B).**\n", et / ct, ct, et, eb / cb, cb, eb, cl, el
		}'
		echo
		echo "Cheap path, per layer: $provs. Uncompressed total: cheap $u_cheap B, --exact $u_exact B, \`gzip -dc | wc -c\` $u_gzip B$([[ $u_cheap == "$u_exact" && $u_exact == "$u_gzip" ]] && echo " (all agree)" || echo " (**DISAGREE**)")."
		if [[ -n $missed ]]; then
			echo
			echo "**Cheap path not taken** for:"
			while IFS= read -r line; do echo "- $line"; done <<<"$missed"
		fi
	} >>"$OUT/remote.md"
done

{
	echo
	echo "Columns: *wall* is the median of the timed runs (each after one warm-up run; the 1st-run row empties the cache and the copy row deletes the pulled layout before every run);"
	echo "*peak RSS*, *requests* and *bytes served* come from one more run, the last two from the registry's access log (GET/HEAD on /v2/, response bodies), the same measure for every tool;"
	echo "*own account* is imgsize's \`--stats\` (requests the registry answered, every kind; layer bytes in brackets), the blob bytes skopeo copy wrote, or the stored manifest and config sizes skopeo inspect must fetch."
	echo "skopeo copy only transfers and verifies: learning uncompressed sizes from the pull would still need decompression, which is what \`--exact\` does."
	echo
	echo "Total script time: $(awk -v a="$T0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }') s."
} >>"$OUT/remote.md"

cat "$OUT/remote.md"
echo >&2
echo "written: $OUT/remote.md (raw data in $RAW)" >&2
