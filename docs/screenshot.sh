#!/usr/bin/env bash
# Takes screenshots of the real window under Xvfb, in Chinese, on the demo account.
# Usage: docs/screenshot.sh [OUT.png [STEP ...]] — each step runs (with a pause) before the shot:
#   X,Y clicks there; type:TEXT types (ASCII) TEXT; paste:TEXT pastes TEXT (any script, through
#   the clipboard: xdotool cannot type Chinese); wait:S waits S more seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-docs/screenshot.png}
shift || true
data=$(mktemp -d)
trap 'rm -rf "$data"' EXIT
export KFDESK_SECRETS=file LANG=zh_CN.UTF-8 FYNE_THEME=light
# KFDESK_SHOT_FIRST_RUN=1: no account, as on a new computer.
[ -n "${KFDESK_SHOT_FIRST_RUN:-}" ] || ./kfdesk --data-dir "$data" demo 2>/dev/null
# KFDESK_SHOT_DAMAGED=1: the demo archive synced (its automatic backup), backed up by hand,
# then cut short as by a disk fault: the window that says why KF Desk cannot start.
if [ -n "${KFDESK_SHOT_DAMAGED:-}" ]; then
	./kfdesk --data-dir "$data" records sync 2>/dev/null
	sleep 1
	./kfdesk --data-dir "$data" backup "$data" >/dev/null
	truncate -s $(($(stat -c %s "$data/kfdesk.db") / 2)) "$data/kfdesk.db"
fi
xvfb-run -a -s "-screen 0 1100x720x24" bash -c '
	./kfdesk --data-dir "$0" & P=$!
	xdotool search --sync --name "KF Desk" >/dev/null
	sleep 2
	for step in "${@:2}"; do
		case "$step" in
		type:*) xdotool type --delay 80 "${step#type:}" ;;
		paste:*) printf %s "${step#paste:}" | xclip -selection clipboard 2>/dev/null; xdotool key ctrl+v ;;
		wait:*) sleep "${step#wait:}" ;;
		*) xdotool mousemove "${step%,*}" "${step#*,}" click 1 ;;
		esac
		sleep 1.5
	done
	# The window that says why KF Desk cannot start is small: shot alone, not the whole screen.
	if [ -n "${KFDESK_SHOT_DAMAGED:-}" ]; then
		import -window "$(xdotool search --name "KF Desk" | head -1)" "$1"
	else
		import -window root "$1"
	fi
	kill $P; wait $P 2>/dev/null || true' "$data" "$out" "$@"
echo "wrote $out"
