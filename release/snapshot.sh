#!/usr/bin/env bash
# Builds a snapshot release offline with GoReleaser (.goreleaser.yaml) and
# checks every artefact: the six archives and their checksums, a binary that
# prints the stamped version, and deb/rpm packages holding the binary, the
# man pages and the completions.
#
#   bash release/snapshot.sh            # GoReleaser from PATH or GOPATH/bin
#
# GoReleaser is installed with `go install` (from the Go module proxy) when
# it is missing; that build takes a few minutes once.
set -euo pipefail
cd "$(dirname "$0")/.."

GORELEASER_VERSION=v2.17.0
gr="$(command -v goreleaser || true)"
if [ -z "$gr" ]; then
  gr="$(go env GOPATH)/bin/goreleaser"
  if [ ! -x "$gr" ]; then
    echo "installing: goreleaser $GORELEASER_VERSION (go install)"
    go install "github.com/goreleaser/goreleaser/v2@$GORELEASER_VERSION"
  fi
fi

"$gr" release --snapshot --clean --skip=publish >dist.log 2>&1 || { tail -40 dist.log; exit 1; }
rm -f dist.log

fail() { echo "snapshot: $*" >&2; exit 1; }
cd dist

# Six archives: linux and darwin as tar.gz, windows as zip.
n=0
for os in linux darwin windows; do
  for arch in amd64 arm64; do
    ext=tar.gz; [ "$os" = windows ] && ext=zip
    f=$(ls imgsize_*_"${os}_${arch}.$ext" 2>/dev/null | head -1)
    [ -n "$f" ] || fail "no archive for $os/$arch"
    n=$((n + 1))
  done
done
echo "archives: $n"

# Every file named in checksums.txt is there and matches.
sha256sum --quiet -c checksums.txt || fail "checksums do not match"
echo "checksums: $(wc -l <checksums.txt) files verified"

# The linux/amd64 binary prints the version the release stamped, not (devel).
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tar -C "$tmp" -xzf imgsize_*_linux_amd64.tar.gz
want=$(ls imgsize_*_linux_amd64.tar.gz | sed -E 's/^imgsize_(.*)_linux_amd64\.tar\.gz$/\1/')
got=$("$tmp/imgsize" version)
case "$got" in
  "imgsize $want "*) echo "version: $got" ;;
  *) fail "binary prints '$got', want version $want" ;;
esac
for f in man/imgsize.1 man/imgsize-check.1 completions/imgsize.bash completions/_imgsize completions/imgsize.fish; do
  [ -s "$tmp/$f" ] || fail "archive lacks $f"
done

# Packages: the binary, man pages and completions where distributions look.
deb=$(ls imgsize_*_linux_amd64.deb)
listing=$(dpkg-deb -c "$deb")
for p in ./usr/bin/imgsize ./usr/share/man/man1/imgsize.1 ./usr/share/bash-completion/completions/imgsize ./usr/share/zsh/vendor-completions/_imgsize ./usr/share/fish/vendor_completions.d/imgsize.fish; do
  grep -q " $p\$" <<<"$listing" || fail "$deb lacks $p"
done
[ "$(dpkg-deb -f "$deb" Package)" = imgsize ] || fail "$deb is not package imgsize"
echo "deb: $deb ($(dpkg-deb -f "$deb" Version))"
rpm=$(ls imgsize_*_linux_amd64.rpm)
# An RPM starts with the lead magic ed ab ee db.
[ "$(head -c4 "$rpm" | od -An -tx1 | tr -d ' \n')" = edabeedb ] || fail "$rpm is not an RPM"
if command -v rpm >/dev/null; then
  rpm -qpl "$rpm" | grep -qx /usr/bin/imgsize || fail "$rpm lacks /usr/bin/imgsize"
fi
echo "rpm: $rpm"
echo "snapshot: ok"
