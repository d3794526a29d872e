# KF Desk. Every target installs the Debian packages it needs (.ci/deps.sh).
# sqlite_fts5: full-text search (storage refuses to compile without it).
# migrated_fynedo: Fyne's threading model of FyneApp.toml's [Migrations] fyneDo, also for go run/test.
TAGS    := sqlite_fts5,migrated_fynedo
GO      ?= go
VERSION := $(shell sed -n 's/^ *Version *= *"\(.*\)"/\1/p' FyneApp.toml)
LDFLAGS := -X kfdesk/ui.Version=$(VERSION)

.PHONY: run build lint test test-tz race bench serve-bench serve-crash-test server server-amd64 server-arm64 windows release-windows release-macos smoke-windows screenshot ime-check clean deps

build: deps
	$(GO) build -tags $(TAGS) -ldflags '$(LDFLAGS)' -o kfdesk .

deps:
	@bash .ci/deps.sh build

# Opens the window; on a machine with no account yet it starts on the demo account.
run: build
	@./kfdesk account list --json | grep -q . || ./kfdesk demo
	./kfdesk

# go vet, then staticcheck (https://staticcheck.dev/docs/), pinned in go.mod's tool directive:
# its default checks, unused code (U1000) included. Cold, building and running it takes ~5 min
# on 2 cores; warm, a second.
lint:
	@bash .ci/deps.sh test
	$(GO) vet -tags $(TAGS) ./...
	$(GO) tool staticcheck -tags $(TAGS) ./...

test: lint
	LANG=en_US.UTF-8 $(GO) test -tags $(TAGS) -count=1 ./...

# A test once failed every day from 16:00 UTC, when the Beijing day is already the next one.
# test-tz runs the suite at 17:30 UTC today (api/clock: KFDESK_TEST_NOW moves the clock of a
# test binary) in three time zones; race runs it once so, in Los Angeles, under the race
# detector (the migrated_fynedo tag turns Fyne's own thread checks off). CI runs race.
TEST_NOW ?= $(shell date -u +%Y-%m-%d)T17:30:00Z
test-tz:
	@bash .ci/deps.sh test
	@for tz in UTC Asia/Shanghai America/Los_Angeles; do \
		echo "TZ=$$tz KFDESK_TEST_NOW=$(TEST_NOW)"; \
		TZ=$$tz KFDESK_TEST_NOW=$(TEST_NOW) LANG=en_US.UTF-8 $(GO) test -tags $(TAGS) -count=1 ./... || exit 1; \
	done

race:
	@bash .ci/deps.sh test
	TZ=America/Los_Angeles KFDESK_TEST_NOW=$(TEST_NOW) LANG=en_US.UTF-8 $(GO) test -race -tags $(TAGS) -count=1 ./...

# Chat-record archive benchmarks (docs/BENCHMARKS.md): sync, search and export of
# 1,000,000 records from the fake server on loopback, and the chat-record list over as many
# results (build, scroll, jump). Quick run: make bench RECORDS=100000
RECORDS ?= 1000000
bench:
	@bash .ci/deps.sh test
	$(GO) test -tags $(TAGS) -run '^$$' -bench Archive -benchtime 1x -timeout 30m ./storage/ -records $(RECORDS)
	$(GO) test -tags $(TAGS) -run '^$$' -bench Reports -benchtime 1x -timeout 30m ./storage/ -records $(RECORDS)
	KFDESK_BENCH_RECORDS=$(RECORDS) $(GO) test -tags $(TAGS) -run '^$$' -bench RecordList -benchtime 100x -timeout 30m ./ui/
	@$(MAKE) --no-print-directory serve-bench serve-crash-test

# Push server (docs/BENCHMARKS.md, Push server): pushes/s with the answer's p50/p99, beside the same
# front door with storage off, PUSHES pushes per case (about 20 s in all); then the kill -9 run
# (ui/serve/crash_test.go: builds the binary; about 90 s, 60 of them a job lease running out).
PUSHES ?= 20000
serve-bench:
	@bash .ci/deps.sh test
	@echo "load average before: $$(cut -d' ' -f1-3 /proc/loadavg)"
	LANG=en_US.UTF-8 $(GO) test -tags $(TAGS) -run '^$$' -bench Pushes -benchtime $(PUSHES)x -timeout 10m ./ui/serve/
	@echo "load average after: $$(cut -d' ' -f1-3 /proc/loadavg)"

serve-crash-test:
	@bash .ci/deps.sh test
	KFDESK_CRASH_TEST=1 LANG=en_US.UTF-8 $(GO) test -tags $(TAGS) -count=1 -run TestServeSurvivesKill9 -v -timeout 5m ./ui/serve/

# The inbox (docs/BENCHMARKS.md, issue 12 §7): the list and a 5,000-message conversation with
# 10,000 conversations and RECORDS records, and a push from the fake to WatchInbox's onUpdate.
.PHONY: inbox-bench
inbox-bench:
	@bash .ci/deps.sh test
	@echo "load average before: $$(cut -d' ' -f1-3 /proc/loadavg)"
	KFDESK_BENCH_RECORDS=$(RECORDS) LANG=en_US.UTF-8 $(GO) test -tags $(TAGS) -run '^$$' -bench Inbox -benchtime 1x -v -timeout 20m ./ui/workspace/
	LANG=en_US.UTF-8 $(GO) test -tags $(TAGS) -run '^$$' -bench PushToScreen -benchtime 200x -timeout 5m ./ui/
	@echo "load average after: $$(cut -d' ' -f1-3 /proc/loadavg)"

# The server build (README, Push server): dist/kfdesk-linux-amd64 and -arm64 with no window (tag
# server: ui/desktop leaves Fyne out), so they need no X11 or OpenGL libraries, and statically
# linked, so they run on older distributions than this one. go-sqlite3 is cgo: glibc is linked in
# statically, with Go's own DNS resolver and user lookup (netgo, osusergo) instead of glibc's,
# which a static binary cannot load, and no SQLite extension loading (it would need dlopen).
SERVER_TAGS    := sqlite_fts5,sqlite_omit_load_extension,server,osusergo,netgo
SERVER_LDFLAGS := $(LDFLAGS) -s -w -linkmode external -extldflags "-static"
server: server-amd64 server-arm64
	@file dist/kfdesk-linux-amd64 dist/kfdesk-linux-arm64

server-amd64 server-arm64: server-%:
	@bash .ci/deps.sh server
	mkdir -p dist
	CGO_ENABLED=1 GOOS=linux GOARCH=$* CC=$(if $(filter arm64,$*),aarch64,x86_64)-linux-gnu-gcc \
		$(GO) build -trimpath -tags $(SERVER_TAGS) -ldflags '$(SERVER_LDFLAGS)' -o dist/kfdesk-linux-$* .

windows:
	@bash .ci/deps.sh windows
	CGO_ENABLED=1 GOOS=windows GOARCH=amd64 CC=x86_64-w64-mingw32-gcc \
		$(GO) build -tags $(TAGS) -ldflags '$(LDFLAGS) -H=windowsgui' -o kfdesk.exe .

# The Windows release: dist/kfdesk.exe, one self-contained file with the icon, version information
# and a manifest (GUI subsystem, no console window). The fyne tool, pinned in go.mod's tool directive,
# reads name, ID, version and icon from FyneApp.toml; --release adds -trimpath and -s -w, which makes
# it a full rebuild (~6.5 min on 2 cores; a few seconds when only our code changed since the last one).
release-windows:
	@bash .ci/deps.sh windows
	rm -f "KF Desk.exe"
	@# The tool is built for this machine first (go tool -n prints its cached path); only the app gets
	@# mingw's CC. The tool bumps Build in FyneApp.toml on every run: the committed file is put back.
	cp FyneApp.toml .FyneApp.toml.keep
	fyne=$$($(GO) tool -n fyne) && GOFLAGS="$(GOFLAGS) -ldflags=-X=kfdesk/ui.Version=$(VERSION)" \
		CC=x86_64-w64-mingw32-gcc GOARCH=amd64 $$fyne package -os windows --release --tags $(TAGS); \
		status=$$?; mv -f .FyneApp.toml.keep FyneApp.toml; exit $$status
	mkdir -p dist && mv -f "KF Desk.exe" dist/kfdesk.exe
	@ls -la dist/kfdesk.exe

# The macOS release (universal "KF Desk.app", ad-hoc signed, zipped in dist/). Run it on a Mac.
release-macos:
	bash .ci/release-macos.sh

# Runs dist/kfdesk.exe under Wine + Xvfb on the demo account and takes a screenshot
# (dist/wine-smoke.png). Needs wine64 (700 MB, so not part of .ci/run).
smoke-windows:
	@bash .ci/deps.sh smoke-windows
	bash .ci/smoke-windows.sh

# Screenshots of the real window under Xvfb, in Chinese, on the demo account (README's and the chat records').
# Chat records (55,195) → wait for the demo's first sync → search → select the first row;
# More (1060,24) → About. The inbox opens first (docs/inbox_screenshot.sh clicks the seeded conversation).
screenshot: build
	@bash .ci/deps.sh screenshot
	bash docs/screenshot.sh docs/screenshot.png 55,195 wait:4 600,113 paste:退款 wait:1 300,250 wait:1
	bash docs/screenshot.sh docs/records.png 55,195 wait:4 600,113 type:ship wait:1 300,250 wait:1
	bash docs/screenshot.sh docs/conversation.png 55,195 wait:4 300,400 wait:1
	bash docs/screenshot.sh docs/reports.png 55,195 wait:4 55,275 wait:3 600,350
	bash docs/screenshot.sh docs/about.png 1060,24 1035,62
	bash docs/screenshot.sh docs/kf-accounts.png 55,155 wait:3
	KFDESK_SHOT_FIRST_RUN=1 bash docs/screenshot.sh docs/first-run-welcome.png
	bash docs/composer_screenshot.sh docs/composer.png
	TAGS=$(TAGS) bash docs/inbox_screenshot.sh docs/inbox.png
	INBOXSHOT_ASK=请问什么时候发货？ WHY=1033,505 TAGS=$(TAGS) bash docs/inbox_screenshot.sh docs/suggestions.png
	KFDESK_SHOT_DAMAGED=1 bash docs/screenshot.sh docs/recovery.png

# Pinyin typed through fcitx5 + Rime under Xvfb reaches the real window's composer (README, Chinese input;
# about 10 s).
ime-check: build
	@bash .ci/deps.sh ime-check
	bash .ci/ime-check.sh

clean:
	rm -rf kfdesk kfdesk.exe dist
