#!/usr/bin/env bash
# Installs imgsize in CI: the release archive of IMGSIZE_VERSION (a tag such
# as v1.2.3) for this machine, checked against the release's checksums.txt,
# or, when there is no such release and IMGSIZE_SOURCE names a checkout of
# imgsize, a build of that checkout with go. The GitHub Action, the GitLab
# template and the Jenkins snippet all install with this script.
#
#   IMGSIZE_VERSION           release tag to install (required for a download)
#   IMGSIZE_BIN_DIR           where the binary goes (default: ./.imgsize-bin)
#   IMGSIZE_SOURCE            a checkout to build when no release fits
#   IMGSIZE_RELEASE_BASE_URL  default https://github.com/imgsize/imgsize/releases/download
#
# It prints the directory holding imgsize as its last line, and appends it
# to $GITHUB_PATH when that is set. Exit 1 when nothing could be installed,
# or when a download does not match its checksum.
set -euo pipefail

bin_dir="${IMGSIZE_BIN_DIR:-$PWD/.imgsize-bin}"
tmp=""
trap 'if [ -n "$tmp" ]; then rm -rf "$tmp"; fi' EXIT
base="${IMGSIZE_RELEASE_BASE_URL:-https://github.com/imgsize/imgsize/releases/download}"
version="${IMGSIZE_VERSION:-}"
mkdir -p "$bin_dir"

say() { echo "imgsize install: $*" >&2; }

done_in() {
  "$1/imgsize" version >&2
  if [ -n "${GITHUB_PATH:-}" ]; then echo "$1" >> "$GITHUB_PATH"; fi
  echo "$1"
  exit 0
}

download() {
  local os arch name
  os=$(uname -s | tr '[:upper:]' '[:lower:]')
  case "$(uname -m)" in
    x86_64 | amd64) arch=amd64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) say "no release archive for $(uname -m)"; return 1 ;;
  esac
  name="imgsize_${version#v}_${os}_${arch}.tar.gz"
  tmp=$(mktemp -d)
  if ! curl -fsSL --retry 3 -o "$tmp/$name" "$base/$version/$name" ||
     ! curl -fsSL --retry 3 -o "$tmp/checksums.txt" "$base/$version/checksums.txt"; then
    say "no release archive $name for $version"
    return 1
  fi
  # A mismatch is an error, never a fallback: the archive is not what the
  # release published.
  if ! (cd "$tmp" && grep -E "^[0-9a-f]{64}  $name\$" checksums.txt | sha256sum -c --status -); then
    say "$name does not match the release's checksums.txt; refusing it"
    exit 1
  fi
  tar -xzf "$tmp/$name" -C "$bin_dir" imgsize
}

if [[ "$version" =~ ^v[0-9]+\.[0-9]+\.[0-9]+ ]] && download; then
  done_in "$bin_dir"
fi
if [ -n "${IMGSIZE_SOURCE:-}" ] && [ -f "$IMGSIZE_SOURCE/go.mod" ]; then
  say "building $IMGSIZE_SOURCE with $(go version)"
  (cd "$IMGSIZE_SOURCE" && CGO_ENABLED=0 go build -trimpath -ldflags "-X main.version=${version:-source}" -o "$bin_dir/imgsize" ./cmd/imgsize)
  done_in "$bin_dir"
fi
say "nothing to install: set IMGSIZE_VERSION to a release tag, or IMGSIZE_SOURCE to a checkout of imgsize"
exit 1
