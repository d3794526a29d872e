#!/usr/bin/env bash
# Builds dist/KFDesk-<version>-macos-universal.zip: "KF Desk.app" for Apple silicon and Intel
# in one bundle, ad-hoc signed. Runs on a Mac only: cgo needs Apple's SDK, which Linux lacks.
# Needs the Xcode Command Line Tools (xcode-select --install) and Go 1.24 or newer.
# Name, bundle ID, version, build number and icon all come from FyneApp.toml.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(uname -s)" != Darwin ]; then
	echo "release-macos runs on a Mac (macOS apps cannot be built on Linux or Windows); see README, 'Building the macOS app'." >&2
	exit 1
fi
xcode-select -p >/dev/null 2>&1 || { echo "Install the Xcode Command Line Tools first: xcode-select --install" >&2; exit 1; }
command -v go >/dev/null || { echo "Install Go 1.24 or newer from https://go.dev/dl/ first." >&2; exit 1; }

version=$(sed -n 's/^ *Version *= *"\(.*\)"/\1/p' FyneApp.toml)
tags=sqlite_fts5,migrated_fynedo,release # release: what `fyne package --release` adds
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Go 1.24+ programs need macOS 11; 12 is what current Go releases support.
export CGO_ENABLED=1 MACOSX_DEPLOYMENT_TARGET=12.0
for arch in arm64 amd64; do
	echo "Building kfdesk for $arch…"
	GOOS=darwin GOARCH=$arch go build -trimpath -tags "$tags" \
		-ldflags "-s -w -X kfdesk/ui.Version=$version" -o "$work/kfdesk-$arch" .
done
lipo -create -output "$work/kfdesk" "$work/kfdesk-arm64" "$work/kfdesk-amd64"

# The fyne tool (pinned in go.mod) writes Info.plist and the .icns icon from FyneApp.toml.
# It also bumps Build in FyneApp.toml on every run: keep the file as committed.
rm -rf "KF Desk.app" "dist/KF Desk.app"
cp FyneApp.toml "$work/FyneApp.toml"
go tool fyne package -os darwin --release --executable "$work/kfdesk"
cp "$work/FyneApp.toml" FyneApp.toml
# The tool writes macOS 10.11 and an empty category; set what is true.
plutil -replace LSMinimumSystemVersion -string "$MACOSX_DEPLOYMENT_TARGET" "KF Desk.app/Contents/Info.plist"
plutil -replace LSApplicationCategoryType -string public.app-category.business "KF Desk.app/Contents/Info.plist"
mkdir -p dist
mv "KF Desk.app" dist/

# Ad-hoc signature: Apple silicon refuses to run unsigned code, and lipo's output must be
# signed again as a whole. (No Developer ID: Gatekeeper asks the user once; see README.)
codesign --force --deep --sign - "dist/KF Desk.app"
codesign --verify --deep --strict "dist/KF Desk.app"

zip="dist/KFDesk-$version-macos-universal.zip"
rm -f "$zip"
ditto -c -k --sequesterRsrc --keepParent "dist/KF Desk.app" "$zip"
lipo -archs "dist/KF Desk.app/Contents/MacOS/kfdesk"
echo "wrote $zip"
