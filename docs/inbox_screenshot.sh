#!/usr/bin/env bash
# Screenshot of the inbox (docs/inbox.png): the demo account in Chinese, a demo
# customer's conversation open with a picture and a menu answer they just sent
# (docs/inboxshot seeds them as pushes). Usage: docs/inbox_screenshot.sh [OUT.png]   (after `make build`)
# docs/suggestions.png: INBOXSHOT_ASK=请问什么时候发货？ WHY=x,y (为什么推荐？, clicked after the row).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-docs/inbox.png}
data=$(mktemp -d)
trap 'rm -rf "$data"' EXIT
export KFDESK_SECRETS=file LANG=zh_CN.UTF-8 FYNE_THEME=light
./kfdesk --data-dir "$data" demo 2>/dev/null
go run -tags "${TAGS:-sqlite_fts5,migrated_fynedo}" ./docs/inboxshot "$data"
# The inbox is the first page; the seeded customer (note 老顾客 王姐) is the third row, under the two
# demo customers waiting for a KF account: click it.
xvfb-run -a -s "-screen 0 1100x720x24" bash -c '
	./kfdesk --data-dir "$0" & P=$!
	xdotool search --sync --name "KF Desk" >/dev/null
	sleep 3
	xdotool mousemove ${2%,*} ${2#*,} click 1
	sleep 3
	if [ -n "$3" ]; then xdotool mousemove ${3%,*} ${3#*,} click 1; sleep 2; fi
	import -window root "$1"
	kill $P; wait $P 2>/dev/null || true' "$data" "$out" "${INBOX_ROW:-200,395}" "${WHY:-}"
echo "wrote $out"
