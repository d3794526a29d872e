#!/usr/bin/env bash
# Smoke test of the Windows release under Wine + Xvfb: dist/kfdesk.exe runs its command line
# (demo account, list, backup), opens its window on the demo account, a second copy of the
# window says KF Desk is already open, and a screenshot is written to dist/wine-smoke.png.
# Usage: .ci/smoke-windows.sh [EXE]   (make release-windows first)
set -euo pipefail
cd "$(dirname "$0")/.."
exe=$(realpath "${1:-dist/kfdesk.exe}")
wine=/usr/lib/wine/wine64
wineserver=/usr/lib/wine/wineserver64
export WINEPREFIX=${KFDESK_WINEPREFIX:-$HOME/.cache/kfdesk-wine} WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
export KFDESK_SECRETS=file LANG=zh_CN.UTF-8 FYNE_THEME=light

if [ ! -f "$WINEPREFIX/system.reg" ]; then
	echo "Creating the Wine prefix $WINEPREFIX (once)…"
	"$wine" wineboot -i >/dev/null 2>&1
fi
# Go's runtime loads bcryptprimitives.dll from system32 only (see the .c file).
dll="$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll"
if [ ! -f "$dll" ] || [ .ci/wine/bcryptprimitives.c -nt "$dll" ]; then
	x86_64-w64-mingw32-gcc -shared -O2 -o "$dll" .ci/wine/bcryptprimitives.c -ladvapi32
fi

data='C:\kfdesk-smoke'
rm -rf "$WINEPREFIX/drive_c/kfdesk-smoke"
out=$(mktemp -d)
trap '"$wineserver" -k 2>/dev/null || true; rm -rf "$out"' EXIT
kf() { timeout 120 "$wine" "$exe" --data-dir "$data" "$@"; }

echo "1. command line"
kf demo >/dev/null
kf --json account list | tee "$out/accounts.json" | grep -q '"demo":true' ||
	{ echo "FAIL: the demo account is not listed" >&2; cat "$out/accounts.json" >&2; exit 1; }

# Wine keeps its server (and desktop) running for a while, bound to the display it started
# on; a window on Xvfb then fails with "Failed to create helper window". Start afresh.
"$wineserver" -k 2>/dev/null || true
"$wineserver" -w 2>/dev/null || true

echo "2. window, second window, backup while open"
xvfb-run -a -s "-screen 0 1100x720x24" bash -c '
	set -euo pipefail
	exe=$1 data=$2 out=$3 wine=$4
	"$wine" "$exe" --data-dir "$data" & first=$!
	timeout 90 xdotool search --sync --name "KF Desk" >/dev/null || { echo "FAIL: no window within 90 s" >&2; exit 1; }
	sleep 4
	import -window root "$out/window.png"
	"$wine" "$exe" --data-dir "$data" & second=$!
	for i in $(seq 60); do
		[ "$(xdotool search --name "KF Desk" | wc -l)" -ge 2 ] && break
		sleep 1
	done
	[ "$(xdotool search --name "KF Desk" | wc -l)" -ge 2 ] || { echo "FAIL: the second copy showed no window" >&2; exit 1; }
	sleep 3
	import -window root "$out/second.png"
	timeout 120 "$wine" "$exe" --data-dir "$data" backup "C:\\kfdesk-smoke\\copy.db"
	kill $first $second 2>/dev/null || true' bash "$exe" "$data" "$out" "$wine"

[ -s "$WINEPREFIX/drive_c/kfdesk-smoke/copy.db" ] || { echo "FAIL: no backup written" >&2; exit 1; }
mkdir -p dist
cp "$out/window.png" dist/wine-smoke.png
cp "$out/second.png" dist/wine-smoke-second.png
echo "PASS: dist/wine-smoke.png, dist/wine-smoke-second.png"
