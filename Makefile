# KF Desk. Every target installs the Debian packages it needs (.ci/deps.sh).
# sqlite_fts5: full-text search (storage refuses to compile without it).
# migrated_fynedo: Fyne's threading model of FyneApp.toml's [Migrations] fyneDo, also for go run/test.
TAGS    := sqlite_fts5,migrated_fynedo
GO      ?= go
VERSION := $(shell sed -n 's/^ *Version *= *"\(.*\)"/\1/p' FyneApp.toml)
LDFLAGS := -X kfdesk/ui.Version=$(VERSION)

.PHONY: run build test race bench windows screenshot clean deps

build: deps
	$(GO) build -tags $(TAGS) -ldflags '$(LDFLAGS)' -o kfdesk .

deps:
	@bash .ci/deps.sh build

# Opens the window; on a machine with no account yet it starts on the demo account.
run: build
	@./kfdesk account list --json | grep -q . || ./kfdesk demo
	./kfdesk

test:
	@bash .ci/deps.sh test
	$(GO) vet -tags $(TAGS) ./...
	LANG=en_US.UTF-8 $(GO) test -tags $(TAGS) -count=1 ./...

race:
	@bash .ci/deps.sh test
	$(GO) test -race -tags $(TAGS) -count=1 ./...

# Chat-record archive benchmarks (docs/BENCHMARKS.md): sync, search and export of
# 1,000,000 records from the fake server on loopback. Quick run: make bench RECORDS=100000
RECORDS ?= 1000000
bench:
	@bash .ci/deps.sh test
	$(GO) test -tags $(TAGS) -run '^$$' -bench Archive -benchtime 1x -timeout 30m ./storage/ -records $(RECORDS)

windows:
	@bash .ci/deps.sh windows
	CGO_ENABLED=1 GOOS=windows GOARCH=amd64 CC=x86_64-w64-mingw32-gcc \
		$(GO) build -tags $(TAGS) -ldflags '$(LDFLAGS) -H=windowsgui' -o kfdesk.exe .

# Screenshots of the real window under Xvfb, in Chinese, on the demo account (README's and the chat records').
# Chat records (55,155) → wait for the demo's first sync → search → select the first row.
screenshot: build
	@bash .ci/deps.sh screenshot
	bash docs/screenshot.sh docs/screenshot.png 55,155 wait:4 600,113 paste:退款 wait:1 300,250 wait:1
	bash docs/screenshot.sh docs/records.png 55,155 wait:4 600,113 type:ship wait:1 300,250 wait:1
	bash docs/screenshot.sh docs/conversation.png 55,155 wait:4 300,400 wait:1

clean:
	rm -f kfdesk kfdesk.exe
