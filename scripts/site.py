#!/usr/bin/env python3
"""Builds, serves and end-to-end tests a Leptos site described by cargo-leptos's metadata.

    scripts/site.py build      [--release] [--package NAME] [--manifest-path PATH]
    scripts/site.py serve      [--release] [...]          build, then run the server
    scripts/site.py end-to-end [--release] [...]          build, start the server, run end2end-cmd
    scripts/site.py env        [--package NAME]           the LEPTOS_* variables, as shell exports

Why this exists instead of `cargo leptos`: the project's own scripts (demo, tests, benchmarks,
soak) need only a few things of cargo-leptos, and it is expensive to have. There is no prebuilt
cargo-leptos in any registry this project may use (crates.io, npm, PyPI, Debian), so a new
machine compiled it: 1213 s of a 1600 s cold setup on the 2-core machine. It also builds the
server with its own flags (`--cfg erase_components` in RUSTFLAGS, LEPTOS_* at compile time), so
the test command compiled the whole dependency graph a second time after the tests had built it.
Apps that use this crate still use cargo-leptos (the README says so); this script is only for the
project's scripts, and it reads the same `[package.metadata.leptos]` table (through
`cargo metadata`), so the demo keeps building with `cargo leptos` too.

What it does, named as cargo-leptos names things (Leptos's `HydrationScripts` loads
`/{site-pkg-dir}/{output-name}.js`, `.wasm` and `.css`):
  * the server: `cargo build -p PKG --bin BIN` with `bin-features`, no default features unless
    `bin-default-features = true` (as in cargo-leptos), `--release` or `bin-profile-release`;
    LEPTOS_OUTPUT_NAME is set while it compiles, as cargo-leptos sets it (leptos reads it with
    `option_env!`: without it `HydrationScripts` asks for `{output-name}_bg.wasm`).
    `--server-from-test-build ARGS` builds it instead as part of the test build,
    `cargo build --lib --bins --tests --examples ARGS`: the same targets and the same feature
    unification (dev-dependencies included) as `cargo test --no-run ARGS`, which is how
    `cargo nextest run ARGS` builds, and dev and test profiles share artifacts. Right after the
    tests, cargo finds it all fresh (at most the server's own crate is linked, for a package
    without integration tests): the test command does not build the dependency graph a second
    time with the demo's features.
  * the client: `cargo build -p PKG --lib --target wasm32-unknown-unknown` with `lib-features`
    (`lib-profile-release` for `--release`), then `wasm-bindgen --target web --no-typescript`
    into `{site-root}/{site-pkg-dir}/`, the `_bg` dropped from the wasm's name, and in release
    `wasm-opt -Oz` with cargo-leptos's default feature flags.
  * `style-file` copied to `{pkg}/{output-name}.css` (a .scss/.sass one compiled by `sass` from
    PATH), and the contents of `assets-dir` copied into `site-root`.
  * serve / end-to-end: the server runs from the workspace root with LEPTOS_OUTPUT_NAME,
    LEPTOS_SITE_ROOT, LEPTOS_SITE_PKG_DIR, LEPTOS_SITE_ADDR and LEPTOS_RELOAD_PORT set (site-addr
    and reload-port from the environment when set there, as cargo-leptos lets them be);
    end-to-end waits until it accepts connections, runs `end2end-cmd` in `end2end-dir` with the
    same variables, always stops the server, and exits with the test command's status.
Not done (nothing here uses them; a key naming one stops the build rather than build a site
that differs from cargo-leptos's): hot reload and watching, Tailwind, hashed file names, wasm
splitting, JS minification, CSS bundling and browser prefixes (lightningcss), a workspace-level
`[[workspace.metadata.leptos]]` table.
"""

import argparse
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time

# Keys that change what cargo-leptos builds and that this script does not implement.
UNSUPPORTED = {
    "tailwind-input-file": "Tailwind",
    "tailwind-config-file": "Tailwind",
    "hash-files": "hashed file names",
    "hash-file-name": "hashed file names",
    "bin-target-triple": "a cross-compiled server",
    "bin-cargo-command": "another cargo for the server",
    "bin-cargo-args": "extra cargo arguments for the server",
    "lib-cargo-args": "extra cargo arguments for the client",
    "server-fn-prefix": "a server function prefix",
    "disable-server-fn-hash": "server function hashing options",
    "server-fn-mod-path": "server function hashing options",
    "style-bundle": "CSS bundling",
    "always-erase-components": "erase_components builds",
    "js-dir": "JS snippets",
}
# Keys read by cargo-leptos that do not change the built site, or that this script handles.
KNOWN = {
    "output-name", "site-root", "site-pkg-dir", "style-file", "assets-dir", "site-addr",
    "reload-port", "end2end-cmd", "end2end-dir", "browserquery", "bin-target", "bin-features",
    "bin-default-features", "lib-features", "lib-default-features", "lib-profile-release",
    "lib-profile-dev", "bin-profile-release", "bin-profile-dev", "wasm-opt-features",
    "watch-additional-files", "js-minify", "disable-erase-components", "env",
    "graceful-shutdown", "graceful-shutdown-timeout-secs", "graceful-shutdown-unix-signal",
    "reload-external-port", "reload-ws-protocol", "not-found-path", "front-target-dir",
    "separate-front-target-dir", "features", "bin-exe-name", "bin-target-dir",
}
WASM_TARGET = "wasm32-unknown-unknown"


def log(msg):
    print(f"[site] {msg}", file=sys.stderr, flush=True)


def die(msg, code=1):
    log(f"ERROR: {msg}")
    sys.exit(code)


def run(cmd, **kw):
    log("$ " + " ".join(shlex.quote(c) for c in cmd))
    return subprocess.run(cmd, **kw)


class Site:
    def __init__(self, args):
        cmd = ["cargo", "metadata", "--format-version", "1", "--no-deps"]
        if args.manifest_path:
            cmd += ["--manifest-path", args.manifest_path]
        meta = json.loads(subprocess.run(cmd, check=True, stdout=subprocess.PIPE).stdout)
        self.root = meta["workspace_root"]
        self.target_dir = meta["target_directory"]
        candidates = [p for p in meta["packages"] if (p.get("metadata") or {}).get("leptos")]
        if args.package:
            candidates = [p for p in candidates if p["name"] == args.package]
        elif args.manifest_path:
            want = os.path.realpath(args.manifest_path)
            picked = [p for p in candidates if os.path.realpath(p["manifest_path"]) == want]
            candidates = picked or candidates
        if len(candidates) != 1:
            names = ", ".join(p["name"] for p in candidates) or "none"
            die(f"need exactly one package with [package.metadata.leptos] (found: {names}); use --package")
        pkg = candidates[0]
        self.pkg = pkg
        self.name = pkg["name"]
        self.dir = os.path.dirname(pkg["manifest_path"])
        conf = pkg["metadata"]["leptos"]
        for key in conf:
            if key in UNSUPPORTED:
                die(f"[package.metadata.leptos] {key} ({UNSUPPORTED[key]}) is not supported by "
                    "scripts/site.py; use cargo-leptos for this package")
            if key not in KNOWN:
                log(f"warning: [package.metadata.leptos] key {key!r} is not read by scripts/site.py")
        self.conf = conf
        self.release = args.release
        self.output_name = conf.get("output-name") or self.name
        # Relative to the workspace root, where cargo-leptos runs everything (and the server).
        self.site_root = os.path.join(self.root, conf.get("site-root", "target/site"))
        self.pkg_dir_rel = conf.get("site-pkg-dir", "pkg")
        self.pkg_dir = os.path.join(self.site_root, self.pkg_dir_rel)
        bins = [t["name"] for t in pkg["targets"] if "bin" in t["kind"]]
        self.bin = conf.get("bin-target") or (bins[0] if len(bins) == 1 else self.name)
        if self.bin not in bins:
            die(f"{self.name} has no bin target {self.bin!r} (bins: {bins})")

    def path_in_package(self, key):
        value = self.conf.get(key)
        return os.path.normpath(os.path.join(self.dir, value)) if value else None

    def env(self):
        """The variables cargo-leptos gives the server (and its compilation)."""
        return {
            "LEPTOS_OUTPUT_NAME": self.output_name,
            "LEPTOS_SITE_ROOT": os.path.relpath(self.site_root, self.root),
            "LEPTOS_SITE_PKG_DIR": self.pkg_dir_rel,
            "LEPTOS_SITE_ADDR": os.environ.get("LEPTOS_SITE_ADDR") or self.conf.get("site-addr", "127.0.0.1:3000"),
            "LEPTOS_RELOAD_PORT": os.environ.get("LEPTOS_RELOAD_PORT") or str(self.conf.get("reload-port", 3001)),
        }

    def profile_args(self, kind):
        profile = self.conf.get(f"{kind}-profile-{'release' if self.release else 'dev'}")
        if profile:
            return ["--profile", profile]
        return ["--release"] if self.release else []

    def feature_args(self, kind):
        args = []
        if not self.conf.get(f"{kind}-default-features", False):
            args.append("--no-default-features")
        features = self.conf.get(f"{kind}-features") or []
        if features:
            args.append("--features=" + ",".join(features))
        return args

    def cargo_artifacts(self, cmd, env):
        """Runs a cargo build with JSON messages; returns the compiler-artifact messages."""
        cmd = cmd + ["--message-format=json-render-diagnostics"]
        log("$ " + " ".join(shlex.quote(c) for c in cmd))
        proc = subprocess.run(cmd, cwd=self.root, env=env, stdout=subprocess.PIPE, text=True)
        artifacts = []
        for line in proc.stdout.splitlines():
            if line.startswith("{"):
                msg = json.loads(line)
                if msg.get("reason") == "compiler-artifact":
                    artifacts.append(msg)
        if proc.returncode != 0:
            die(f"cargo failed ({proc.returncode})", proc.returncode)
        return artifacts

    def build_server(self, from_test_build):
        env = dict(os.environ, **self.env())
        if from_test_build is not None:
            # What `cargo test --no-run` (cargo-nextest's build) builds, plus every bin in
            # normal mode: right after the tests, cargo finds everything fresh.
            cmd = ["cargo", "build", "--lib", "--bins", "--tests", "--examples"] + shlex.split(from_test_build)
        else:
            cmd = ["cargo", "build", "-p", self.name, "--bin", self.bin]
            cmd += self.feature_args("bin") + self.profile_args("bin")
        for msg in self.cargo_artifacts(cmd, env):
            t = msg["target"]
            if (t["name"] == self.bin and "bin" in t["kind"] and msg.get("executable")
                    and not msg["profile"]["test"] and msg["package_id"] == self.pkg["id"]):
                return msg["executable"]
        die(f"cargo built no binary {self.bin!r} of {self.name}")

    def build_client(self):
        env = dict(os.environ, **self.env())
        cmd = ["cargo", "build", "-p", self.name, "--lib", "--target", WASM_TARGET]
        cmd += self.feature_args("lib") + self.profile_args("lib")
        wasm = None
        for msg in self.cargo_artifacts(cmd, env):
            if msg["package_id"] == self.pkg["id"]:
                wasm = next((f for f in msg["filenames"] if f.endswith(".wasm")), wasm)
        if not wasm:
            die(f"cargo built no .wasm for {self.name} (is its lib crate-type cdylib?)")
        return wasm

    def check_wasm_bindgen(self):
        exe = shutil.which("wasm-bindgen")
        if not exe:
            die("wasm-bindgen is not on PATH (run scripts/setup.sh, then . scripts/env.sh)")
        lock = os.path.join(self.root, "Cargo.lock")
        want = None
        if os.path.exists(lock):
            m = re.search(r'^name = "wasm-bindgen"\nversion = "([^"]+)"', open(lock).read(), re.M)
            want = m and m.group(1)
        have = subprocess.run([exe, "--version"], stdout=subprocess.PIPE, text=True).stdout.split()
        if want and want not in have:
            die(f"{exe} is {' '.join(have)}, but Cargo.lock has wasm-bindgen {want}: the two must "
                "be equal (scripts/setup.sh installs the locked one)")
        return exe

    def build(self, from_test_build=None):
        t0 = time.monotonic()
        bindgen = self.check_wasm_bindgen()
        server = self.build_server(from_test_build)
        wasm = self.build_client()
        # This package's files in the pkg dir are made anew (nothing stale is served); another
        # package's site may share the dir (the demo and the example both use target/site).
        os.makedirs(self.pkg_dir, exist_ok=True)
        for f in os.listdir(self.pkg_dir):
            if f.startswith(self.output_name + ".") or f.startswith(self.output_name + "_bg."):
                os.remove(os.path.join(self.pkg_dir, f))
        t1 = time.monotonic()
        r = run([bindgen, "--target", "web", "--no-typescript", "--out-dir", self.pkg_dir,
                 "--out-name", self.output_name, wasm])
        if r.returncode != 0:
            die("wasm-bindgen failed", r.returncode)
        out_wasm = os.path.join(self.pkg_dir, self.output_name + ".wasm")
        os.replace(os.path.join(self.pkg_dir, self.output_name + "_bg.wasm"), out_wasm)
        if self.release:
            wasm_opt = shutil.which("wasm-opt")
            if not wasm_opt:
                die("wasm-opt is not on PATH (run scripts/setup.sh, then . scripts/env.sh)")
            flags = sorted(self.conf["wasm-opt-features"]) if "wasm-opt-features" in self.conf \
                else ["-Oz", "--enable-bulk-memory", "--enable-nontrapping-float-to-int"]
            r = run([wasm_opt] + flags + [out_wasm, "-o", out_wasm])
            if r.returncode != 0:
                die("wasm-opt failed", r.returncode)
        self.copy_style()
        self.copy_assets()
        size = os.path.getsize(out_wasm)
        log(f"site of {self.name} in {os.path.relpath(self.site_root, self.root)}/ "
            f"({self.output_name}.wasm {size // 1024} KiB; post-processing {time.monotonic() - t1:.1f}s, "
            f"all {time.monotonic() - t0:.0f}s); server {server}")
        return server

    def copy_style(self):
        style = self.path_in_package("style-file")
        if not style:
            return
        dest = os.path.join(self.pkg_dir, self.output_name + ".css")
        if style.endswith((".scss", ".sass")):
            sass = shutil.which("sass")
            if not sass:
                die(f"{style} is Sass and `sass` is not on PATH (npm package sass)")
            r = run([sass, "--no-source-map", style, dest])
            if r.returncode != 0:
                die("sass failed", r.returncode)
        else:
            shutil.copyfile(style, dest)

    def copy_assets(self):
        assets = self.path_in_package("assets-dir")
        if assets and os.path.isdir(assets):
            shutil.copytree(assets, self.site_root, dirs_exist_ok=True)

    def start_server(self, exe):
        env = dict(os.environ, **self.env())
        log(f"starting {exe} on {env['LEPTOS_SITE_ADDR']}")
        # Its own process group, so stopping it also stops anything it started.
        return subprocess.Popen([exe], cwd=self.root, env=env, start_new_session=True)

    def wait_until_up(self, proc, timeout=120):
        host, _, port = self.env()["LEPTOS_SITE_ADDR"].rpartition(":")
        host = host.strip("[]")
        if host in ("0.0.0.0", "::"):
            host = "127.0.0.1"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                die(f"the server exited with {proc.returncode} before it accepted connections")
            try:
                with socket.create_connection((host, int(port)), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        die(f"the server did not accept connections on {host}:{port} within {timeout}s")


def stop(proc):
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    except ProcessLookupError:
        pass


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("command", choices=["build", "serve", "end-to-end", "env"])
    ap.add_argument("--release", action="store_true")
    ap.add_argument("--package", "-p")
    ap.add_argument("--manifest-path")
    ap.add_argument("--server-from-test-build", metavar="CARGO_TEST_ARGS",
                    help="take the server binary from `cargo test --no-run CARGO_TEST_ARGS`")
    args = ap.parse_args()
    site = Site(args)
    if args.command == "env":
        for k, v in site.env().items():
            print(f"export {k}={shlex.quote(v)}")
        return 0
    server = site.build(args.server_from_test_build)
    if args.command == "build":
        return 0
    if args.command == "serve":
        os.chdir(site.root)
        env = dict(os.environ, **site.env())
        os.execve(server, [server], env)
    # end-to-end
    cmd = site.conf.get("end2end-cmd")
    if not cmd:
        die(f"{site.name} has no end2end-cmd in [package.metadata.leptos]")
    e2e_dir = site.path_in_package("end2end-dir") or site.dir
    proc = site.start_server(server)
    # SIGTERM/SIGINT to this script still stop the server (finally below).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        site.wait_until_up(proc)
        parts = cmd.split()
        exe = shutil.which(parts[0])
        if not exe:
            die(f"end2end-cmd {cmd!r}: {parts[0]} not found on PATH")
        log(f"$ (cd {e2e_dir} && {cmd})")
        code = subprocess.run([exe] + parts[1:], cwd=e2e_dir, env=dict(os.environ, **site.env())).returncode
    finally:
        stop(proc)
    if proc.returncode not in (0, -signal.SIGTERM, 143, None):
        log(f"note: the server exited with {proc.returncode}")
    log(f"end-to-end: {cmd} exited with {code}")
    return code


if __name__ == "__main__":
    sys.exit(main())
