#!/usr/bin/env bash
# Builds an installable Debian package of the desktop app with dpkg-deb (the Tauri CLI's bundler
# cannot read this repository's layout; see README, Desktop app):
#
#   bash src-tauri/packaging/build-deb.sh          # → target/debian/identity-inspector_<version>_<arch>.deb
#   sudo apt-get install ./target/debian/identity-inspector_*.deb
#
# It builds the release binary with the desktop feature first (skip with NO_BUILD=1 to package
# target/release/identity-inspector, or BIN=path, as it is).
set -euo pipefail
cd "$(dirname "$0")/../.."

version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
arch=$(dpkg --print-architecture)
if [ "${NO_BUILD:-}" != 1 ]; then
  cargo build --release --locked -p identity-inspector --features desktop
fi
bin=${BIN:-target/release/identity-inspector}

root=$(mktemp -d)
chmod 0755 "$root"
trap 'rm -rf "$root"' EXIT
install -D -m 0755 "$bin" "$root/usr/bin/identity-inspector"
strip "$root/usr/bin/identity-inspector"
install -D -m 0644 src-tauri/packaging/identity-inspector.desktop "$root/usr/share/applications/identity-inspector.desktop"
install -D -m 0644 src-tauri/icons/icon.png "$root/usr/share/icons/hicolor/256x256/apps/identity-inspector.png"
size=$(du -sk "$root/usr" | cut -f1)
mkdir -p "$root/DEBIAN"
cat > "$root/DEBIAN/control" <<CONTROL
Package: identity-inspector
Version: $version
Architecture: $arch
Maintainer: Identity Inspector maintainers <noreply@localhost>
Installed-Size: $size
Depends: libwebkit2gtk-4.1-0, libgtk-3-0
Recommends: libayatana-appindicator3-1
Section: devel
Priority: optional
Description: See how analytics SDKs turn anonymous ids into persons, locally
 A local capture server for PostHog SDK traffic with a desktop window: every
 request and event stored, PostHog's person rules replayed, identity mistakes
 flagged.
CONTROL
mkdir -p target/debian
out="target/debian/identity-inspector_${version}_${arch}.deb"
dpkg-deb --root-owner-group --build "$root" "$out" >/dev/null
echo "$out"
