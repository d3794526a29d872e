#!/usr/bin/env bash
# Screenshot of the composer (docs/composer.png): the demo account with a menu
# message drafted for a demo customer, so the form and the preview both show.
# Usage: docs/composer_screenshot.sh [OUT.png]   (after `make build`)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-docs/composer.png}
data=$(mktemp -d)
trap 'rm -rf "$data"' EXIT
export KFDESK_SECRETS=file LANG=zh_CN.UTF-8 FYNE_THEME=light
./kfdesk --data-dir "$data" demo 2>/dev/null
./kfdesk --data-dir "$data" records sync --from "$(date -d '-3 days' +%F)" 2>/dev/null # for the reply-window estimate
openid=oDemom1xYpCJKZFofBDv2ixoF5hI # a demo follower who wrote recently
draft='{"message":{"touser":"'$openid'","msgtype":"msgmenu","msgmenu":{"head_content":"您好，请问您对本次服务满意吗？","list":[{"id":"101","content":"满意"},{"id":"102","content":"一般"},{"id":"103","content":"不满意"}],"tail_content":"感谢您的反馈，祝您生活愉快！"},"customservice":{"kf_account":"xiaomei@kfdesk_demo"}}}'
sqlite3 "$data/kfdesk.db" "INSERT INTO drafts(account_id, body, updated_at) VALUES (1, '$draft', 0);
	INSERT INTO customer_notes(account_id, openid, note, updated_at) VALUES (1, '$openid', '老顾客 王姐', 0);"
xvfb-run -a -s "-screen 0 1100x720x24" bash -c '
	./kfdesk --data-dir "$0" & P=$!
	xdotool search --sync --name "KF Desk" >/dev/null
	sleep 2
	xdotool mousemove 55 115 click 1 # 发送消息: the composer (the inbox opens first)
	sleep 2
	import -window root "$1"
	kill $P; wait $P 2>/dev/null || true' "$data" "$out"
echo "wrote $out"
