#!/usr/bin/env bash
# Installs the Debian packages a target needs, only those missing, so `make` works on a
# fresh Debian/Ubuntu machine with no manual step. Usage: .ci/deps.sh build|test|acme|server|windows|screenshot|smoke-windows|ime-check
set -euo pipefail

build=(gcc pkg-config libgl1-mesa-dev libx11-dev libxcursor-dev libxrandr-dev libxinerama-dev libxi-dev libxxf86vm-dev)
# pebble: Let's Encrypt's test CA, for the test of `serve --domain` (ui/cli/serve_acme_test.go,
# skipped without it); a 2.7 MB download needing only libc, so the suite always has it.
declare -A extra=(
	[build]=""
	[test]="pebble"
	[acme]="pebble"
	[windows]="gcc-mingw-w64-x86-64"
	[server]="gcc libc6-dev gcc-aarch64-linux-gnu libc6-dev-arm64-cross file systemd"
	[screenshot]="xvfb xauth xdotool xclip imagemagick"
	[smoke-windows]="gcc-mingw-w64-x86-64 wine64 xvfb xauth xdotool imagemagick"
	[ime-check]="xvfb xauth xdotool dbus fcitx5 fcitx5-rime rime-data-pinyin-simp sqlite3 imagemagick"
)
want=()
# The server build has no window, so it needs no X11/GL headers (Makefile: server).
[[ "$*" == server ]] || want=("${build[@]}")
for t in "$@"; do
	[[ -v extra[$t] ]] || { echo "deps.sh: unknown target $t" >&2; exit 2; }
	read -ra more <<<"${extra[$t]}"
	want+=("${more[@]}")
done

missing=()
for p in "${want[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	echo "Installing Debian packages: ${missing[*]}" >&2
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

if ! command -v go >/dev/null; then
	echo "Go is not installed. Install Go 1.26 (https://go.dev/dl/; Go 1.21 or newer fetches it by itself), then run make again." >&2
	exit 1
fi
