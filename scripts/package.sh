#!/usr/bin/env bash
# Packages the two publishable crates as `cargo publish` would, and fails when a package
# holds a file outside its list below, lacks one it must have, has a relative link in a
# Markdown file (crates.io shows the README without the repository around it), or does not
# build from the package alone (and with the declared rust-version).
#
# `cargo package -p workos-emulator -p authkit-leptos` (cargo >= 1.84) packages both together:
# authkit-leptos's dependency on workos-emulator is resolved from a temporary local registry
# holding the just-packaged workos-emulator, so each crate is verified exactly as crates.io
# would serve it -- publish order: workos-emulator first. Verification compiles each package
# from its unpacked .crate with default features, then once more with the features docs.rs
# shows (authkit-leptos) and `cli` (workos-emulator), since with no features authkit-leptos is
# only its shared types; that second pass runs with rustup's toolchain of the declared
# rust-version (the MSRV check, README "Quick start"). Run by scripts/test.sh; `--allow-dirty` because a developer's run
# may have uncommitted changes (CI's clone has none).
#
# The lists are kept here, apart from Cargo.toml's `include`, on purpose: widening `include`
# (or adding a file under an included directory) fails this check until the list says so too.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=/dev/null
. scripts/env.sh

declare -A ALLOWED REQUIRED
# Files cargo adds itself: the normalised manifest, the original, the lockfile, VCS info.
CARGO_FILES='Cargo\.toml|Cargo\.toml\.orig|Cargo\.lock|\.cargo_vcs_info\.json'
ALLOWED[authkit-leptos]="^($CARGO_FILES|README\.md|CHANGELOG\.md|SECURITY\.md|LICENSE-MIT|LICENSE-APACHE|src/.+\.rs)$"
REQUIRED[authkit-leptos]="README.md CHANGELOG.md SECURITY.md LICENSE-MIT LICENSE-APACHE src/lib.rs src/bin/authkit.rs"
ALLOWED[workos-emulator]="^($CARGO_FILES|README\.md|LICENSE-MIT|LICENSE-APACHE|seeds/demo\.yaml|src/.+\.rs)$"
REQUIRED[workos-emulator]="README.md LICENSE-MIT LICENSE-APACHE seeds/demo.yaml src/lib.rs src/main.rs"
CRATES=(workos-emulator authkit-leptos)
FEATURES_workos_emulator="cli"
FEATURES_authkit_leptos="ssr,emulator,testing,redis,cli"

fail=0
problem() { printf '[package] FAIL: %s\n' "$*"; fail=1; }

for crate in "${CRATES[@]}"; do
  list="$(cargo package --quiet --allow-dirty --list -p "$crate")"
  count=0
  while IFS= read -r f; do
    count=$((count + 1))
    [[ "$f" =~ ${ALLOWED[$crate]} ]] || problem "$crate: the package holds $f, which is not on its list"
  done <<<"$list"
  for f in ${REQUIRED[$crate]}; do
    grep -qxF "$f" <<<"$list" || problem "$crate: the package lacks $f"
  done
  printf '[package] %s: %s files, all on its list\n' "$crate" "$count"
done

# Both packaged and each verified (built) from its .crate, default features.
cargo package --allow-dirty -p workos-emulator -p authkit-leptos

# The packaged sources once more, with the features that matter to users and with the
# toolchain of the declared rust-version (the MSRV check): the unpacked packages in a
# throwaway workspace, workos-emulator patched in from its package too, and this workspace's
# Cargo.lock (the versions the test command just tested). `check`, as MSRV checks usually
# are: it type-checks everything a build compiles, without the code generation that the
# verification above already did.
msrv="$(sed -n 's/^rust-version = "\(.*\)"/\1/p' Cargo.toml | head -1)"
[ -n "$msrv" ] || { echo "[package] no rust-version in Cargo.toml" >&2; exit 1; }
# rustup names an installed 1.95 toolchain "1.95.0".
msrv_toolchain="$msrv"
[[ "$msrv" =~ ^[0-9]+\.[0-9]+$ ]] && msrv_toolchain="$msrv.0"
if ! command -v rustup >/dev/null || ! rustup run "$msrv_toolchain" rustc --version >/dev/null 2>&1; then
  echo "[package] the MSRV check needs rustup's $msrv_toolchain toolchain (scripts/setup.sh installs it)" >&2
  exit 1
fi
target="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
work="$(mktemp -d "${TMPDIR:-/tmp}/authkit-package.XXXXXX")"
trap 'rm -rf "$work"' EXIT
for crate in "${CRATES[@]}"; do
  version="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(next(p["version"] for p in json.load(sys.stdin)["packages"] if p["name"]==sys.argv[1]))' "$crate")"
  tar -xzf "$target/package/$crate-$version.crate" -C "$work"
  mv "$work/$crate-$version" "$work/$crate"
  # Markdown in the package is read on crates.io and docs.rs, away from the repository.
  while IFS= read -r md; do
    if rel="$(grep -noE '\]\((\.|[A-Za-z0-9_-]+[/.])[^)]*\)' "$md")"; then
      problem "$crate: relative links in ${md#"$work/$crate/"} (make them absolute): $(tr '\n' ' ' <<<"$rel")"
    fi
  done < <(find "$work/$crate" -name '*.md')
done
cat >"$work/Cargo.toml" <<TOML
[workspace]
members = ["authkit-leptos", "workos-emulator"]
resolver = "2"
[patch.crates-io]
workos-emulator = { path = "workos-emulator" }
TOML
cp Cargo.lock "$work/Cargo.lock"
for crate in "${CRATES[@]}"; do
  var="FEATURES_${crate//-/_}"
  printf '[package] %s from its package with rustc %s (rust-version), features %s\n' "$crate" "$msrv" "${!var}"
  # rustup's toolchain by its own path: PATH may put another cargo first (scripts/env.sh).
  (cd "$work" && CARGO_TARGET_DIR="$target/msrv" rustup run "$msrv_toolchain" cargo check --quiet --offline \
      -p "$crate" --features "${!var}") \
    || problem "$crate does not build from its package with rustc $msrv and features ${!var}"
done

if [ "$fail" != 0 ]; then exit 1; fi
echo "[package] both crates package and build from their packages"
