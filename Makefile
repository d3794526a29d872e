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

# A screenshot of the real window under Xvfb (docs/screenshot.png), in Chinese, on the demo account.
screenshot: build
	@bash .ci/deps.sh screenshot
	bash docs/screenshot.sh

clean:
	rm -f kfdesk kfdesk.exe
