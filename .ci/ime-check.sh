#!/usr/bin/env bash
# make ime-check: Chinese typed through a real input method reaches the real window.
# Under Xvfb it starts fcitx5 with Rime's pinyin (pinyin_simp) over XIM, which is how
# GLFW, and so Fyne, takes input-method text on Linux; then ./kfdesk on a demo account
# in a temporary data folder. It clicks into the composer's text field, types pinyin
# with xdotool, commits it with Space, and reads the field back from the draft the
# composer saves as you type (sqlite3). It then reports whether the known upstream
# Backspace leak (README, "Chinese input") is still there; that part never fails.
# Usage: .ci/ime-check.sh (after `make build`; `make ime-check` does both).
set -euo pipefail
cd "$(dirname "$0")/.."

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export KFDESK_SECRETS=file FYNE_THEME=light
./kfdesk --data-dir "$tmp/data" demo >/dev/null 2>&1

# A fresh HOME with an fcitx5 profile whose only input method is Rime, active from the
# start, and a Rime that offers only pinyin_simp (deployed in well under a second).
home=$tmp/home
mkdir -p "$home/.config/fcitx5" "$home/.local/share/fcitx5/rime"
cat >"$home/.config/fcitx5/profile" <<'EOF'
[Groups/0]
Name=Default
Default Layout=us
DefaultIM=rime

[Groups/0/Items/0]
Name=keyboard-us
Layout=

[Groups/0/Items/1]
Name=rime
Layout=

[GroupOrder]
0=Default
EOF
printf '[Hotkey/TriggerKeys]\n0=Control+space\n[Behavior]\nActiveByDefault=True\nShareInputState=All\n' \
	>"$home/.config/fcitx5/config"
printf 'patch:\n  schema_list:\n    - schema: pinyin_simp\n' >"$home/.local/share/fcitx5/rime/default.custom.yaml"

export tmp home

# xvfb-run picks a free display; dbus-run-session gives fcitx5 its session bus.
xvfb-run -a -s "-screen 0 1100x720x24 -nolisten tcp" dbus-run-session -- bash -c '
	set -u
	export HOME=$home LC_ALL=C.UTF-8 XMODIFIERS=@im=fcitx
	fcitx5 --disable=wayland >"$tmp/fcitx5.log" 2>&1 & F=$!
	for _ in $(seq 50); do # until fcitx5 is on the bus (asking fcitx5-remote would start a second one)
		dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
			org.freedesktop.DBus.NameHasOwner string:org.fcitx.Fcitx5 2>/dev/null | grep -q true && break
		sleep 0.2
	done
	sleep 1 # Rime deploys its schema on first start
	./kfdesk --data-dir "$tmp/data" >"$tmp/kfdesk.log" 2>&1 & A=$!
	stop() { kill -9 $A 2>/dev/null; kill $F 2>/dev/null; wait 2>/dev/null; }
	trap stop EXIT
	W=$(xdotool search --sync --name "KF Desk" | head -1)
	sleep 2
	xdotool windowfocus "$W"
	xdotool mousemove 55 115 click 1 # 发送消息: the composer (the inbox opens first)
	sleep 1
	xdotool mousemove 400 370 click 1 # the composer'"'"'s text field
	sleep 1
	# The field is read back from the draft: the composer saves it 0.5 s after typing.
	draft() { sqlite3 "$tmp/data/kfdesk.db" "SELECT body FROM drafts" 2>/dev/null || true; }
	# waits until the draft contains $1 (up to 10 s)
	await() { for _ in $(seq 50); do draft | grep -q "$1" && return 0; sleep 0.2; done; return 1; }
	xdotool type --delay 120 nihao; sleep 1; xdotool key space
	xdotool type --delay 120 shijie; sleep 1; xdotool key space
	if ! await "\"content\":\"你好世界\""; then
		echo "ime-check: FAIL: the committed 你好世界 did not reach the text field; the draft is: $(draft)"
		mkdir -p dist && import -window root dist/ime-check-fail.png 2>/dev/null && echo "ime-check: screenshot: dist/ime-check-fail.png"
		echo "--- fcitx5 log:"; tail -5 "$tmp/fcitx5.log"
		exit 1
	fi
	echo "ime-check: OK: nihao␣shijie␣ typed through fcitx5 + Rime reached the composer as 你好世界"
	# Backspace while composing: the input method deletes a pinyin letter, and GLFW
	# also hands the key to the field (fyne-io/fyne#5757), which loses 界.
	xdotool type --delay 120 xie; sleep 1; xdotool key BackSpace; sleep 0.5; xdotool key Escape
	if await "\"content\":\"你好世\""; then
		echo "ime-check: known upstream leak still there: Backspace while composing also deleted 界 (fyne-io/fyne#5757)"
	else
		echo "ime-check: NOTE: Backspace while composing no longer reaches the field; the draft is $(draft). Update README, Chinese input."
	fi
' 2>"$tmp/session.log" || { echo "--- session log:"; tail -5 "$tmp/session.log"; exit 1; }
