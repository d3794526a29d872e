#!/usr/bin/env bash
# Takes screenshots of the real window under Xvfb, in Chinese, on the demo account.
# Usage: docs/screenshot.sh [OUT.png [X,Y ...]]  — each X,Y is clicked (with a pause) before the shot.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-docs/screenshot.png}
shift || true
data=$(mktemp -d)
trap 'rm -rf "$data"' EXIT
export KFDESK_SECRETS=file LANG=zh_CN.UTF-8 FYNE_THEME=light
# KFDESK_SHOT_FIRST_RUN=1: no account, as on a new computer.
[ -n "${KFDESK_SHOT_FIRST_RUN:-}" ] || ./kfdesk --data-dir "$data" demo 2>/dev/null
xvfb-run -a -s "-screen 0 1100x720x24" bash -c '
	./kfdesk --data-dir "$0" & P=$!
	xdotool search --sync --name "KF Desk" >/dev/null
	sleep 2
	for xy in "${@:2}"; do xdotool mousemove "${xy%,*}" "${xy#*,}" click 1; sleep 1.5; done
	import -window root "$1"
	kill $P; wait $P 2>/dev/null || true' "$data" "$out" "$@"
echo "wrote $out"
