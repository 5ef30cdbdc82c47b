#!/usr/bin/env bash
# R5 load and soak (#11): the demo's release build (or, with SOAK_APP=example,
# examples/start-axum's, on its own workos-emulator as its README runs it) under Debian's wrk for SOAK_SECONDS (60)
# with SOAK_CONNECTIONS (256) connections, sending a mix of requests to open and protected
# pages with valid, expiring, expired, tampered, foreign and garbage session cookies and
# with none (scripts/soak.lua: which kind of request gets which answer, checked on every
# response). Fails when any response is unexpected, any socket error or timeout occurs, or
# the demo's open file descriptors, threads or tokio tasks do not come back to where they
# started (SOAK_FD_SLACK, 8; SOAK_THREAD_SLACK, 4; SOAK_TASK_SLACK, 8) after the run.
# Reports the demo's memory (VmRSS after warm-up, every 10 s, at the end; VmHWM, the peak),
# descriptors, threads and tasks, and ends with a summary block for RELIABILITY.md.
#
# Tasks: /proc cannot show them, so the app writes the tokio runtime's count of alive tasks
# to a file once a second (authkit_leptos::testing::spawn_runtime_stats_from_env; the task
# doing that is one of them): the demo with AUTHKIT_DEMO_RUNTIME_STATS=<file>
# (app/src/main.rs), the example, built with its `soak` feature, with SOAK_RUNTIME_STATS.
#
# Cookies: signed in with curl through the demo and its emulator (AUTHKIT_DEMO_AUTO_APPROVE),
# with the access-token lifetime set through the emulator's /__emulator/token_ttl control:
# valid ones live past the run, expiring ones enter the refresh window at once and expire
# during the run (staggered), expired ones are issued already expired; foreign ones come
# from a second demo process with another cookie password; tampered (a flipped byte of the
# ciphertext, MAC or IV, a truncated seal, another password id) and garbage ones are made
# by soak.lua.
#
# Knobs: SOAK_APP (demo, the default, or example), SOAK_SECONDS, SOAK_CONNECTIONS (at least 16: wrk runs 16 threads, one kind of
# request each), SOAK_WARMUP_SECONDS (10), SOAK_SKIP_BUILD=1 (use the release build as it
# is). The first release build takes several minutes.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

SECONDS_RUN="${SOAK_SECONDS:-60}"
CONNECTIONS="${SOAK_CONNECTIONS:-256}"
WARMUP="${SOAK_WARMUP_SECONDS:-10}"
FD_SLACK="${SOAK_FD_SLACK:-8}"
THREAD_SLACK="${SOAK_THREAD_SLACK:-4}"
TASK_SLACK="${SOAK_TASK_SLACK:-8}"
THREADS=16
APP="${SOAK_APP:-demo}"
case "$APP" in
  demo | example) ;;
  *) echo "soak: SOAK_APP is demo or example, not $APP" >&2; exit 2 ;;
esac
if [ "$CONNECTIONS" -lt "$THREADS" ]; then
  echo "soak: SOAK_CONNECTIONS must be at least $THREADS" >&2
  exit 2
fi

if [ "$APP" = example ]; then
  # The site's LEPTOS_* settings, as scripts/site.py serves it (from the workspace root);
  # each process gets its own LEPTOS_SITE_ADDR below.
  eval "$(python3 scripts/site.py env --release --package start-axum)"
fi
if [ "${SOAK_SKIP_BUILD:-0}" != 1 ]; then
  bash scripts/setup.sh
  # shellcheck source=/dev/null
  . scripts/env.sh
  if [ "$APP" = demo ]; then
    python3 scripts/site.py build --release --package authkit-demo 2>&1 | tail -3
  else
    python3 scripts/site.py build --release --package start-axum 2>&1 | tail -3
    # The server once more with the `soak` feature (its task count), as site.py builds it
    # otherwise (bin-features, no default features, the site's LEPTOS_* environment below).
    cargo build --quiet --release -p start-axum --bin start-axum --no-default-features --features soak
    cargo build --quiet --release -p workos-emulator --features cli --bin workos-emulator
  fi
fi
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
if [ "$APP" = demo ]; then
  DEMO="$TARGET/release/authkit-demo"
  CHECK_PAGE=/protected/about SIGNED_IN_MARK='id="signed-in-as"'
else
  DEMO="$TARGET/release/start-axum"
  EMULATOR_BIN="$TARGET/release/workos-emulator"
  [ -x "$EMULATOR_BIN" ] || { echo "soak: no release build at $EMULATOR_BIN" >&2; exit 2; }
  CHECK_PAGE=/dashboard SIGNED_IN_MARK='ada@example.com'
fi
[ -x "$DEMO" ] || { echo "soak: no release build at $DEMO" >&2; exit 2; }

WORK="$(mktemp -d)"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
random_password() { head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n'; }

# start_demo NAME PORT EMULATOR_PORT PASSWORD: starts the app under test (the demo with its
# built-in emulator, or the example with a workos-emulator process of its own, the app's
# WORKOS_* settings taken from what the emulator prints), waits until it answers. Its count
# of alive tokio tasks is in $WORK/NAME.tasks, renewed every second.
start_demo() {
  local name="$1" port="$2" emulator_port="$3" password="$4"
  if [ "$APP" = demo ]; then
    LEPTOS_SITE_ADDR="127.0.0.1:$port" AUTHKIT_DEMO_EMULATOR_PORT="$emulator_port" \
      AUTHKIT_DEMO_AUTO_APPROVE=ada@example.com WORKOS_COOKIE_PASSWORD="$password" \
      AUTHKIT_DEMO_RUNTIME_STATS="$WORK/$name.tasks" \
      "$DEMO" >"$WORK/$name.log" 2>&1 &
  else
    "$EMULATOR_BIN" --port "$emulator_port" --app-url "http://127.0.0.1:$port" \
      --auto-approve ada@example.com --json >"$WORK/$name.emulator.json" 2>"$WORK/$name.emulator.log" &
    PIDS+=("$!")
    for _ in $(seq 100); do [ -s "$WORK/$name.emulator.json" ] && break; sleep 0.1; done
    [ -s "$WORK/$name.emulator.json" ] || { echo "soak: the $name emulator printed nothing:" >&2; cat "$WORK/$name.emulator.log" >&2; exit 1; }
    (
      # The `env` object of the emulator's JSON line, as `export K=V` lines.
      eval "$(python3 -c 'import json,shlex,sys; [print(f"export {k}={shlex.quote(v)}") for k,v in json.load(open(sys.argv[1]))["env"].items()]' "$WORK/$name.emulator.json")"
      LEPTOS_SITE_ADDR="127.0.0.1:$port" WORKOS_COOKIE_PASSWORD="$password" \
        SOAK_RUNTIME_STATS="$WORK/$name.tasks" exec "$DEMO"
    ) >"$WORK/$name.log" 2>&1 &
  fi
  PIDS+=("$!")
  LAST_PID=$!
  for _ in $(seq 200); do
    curl -sf -o /dev/null "http://127.0.0.1:$port/" && return 0
    sleep 0.1
  done
  echo "soak: the $name demo did not start:" >&2
  cat "$WORK/$name.log" >&2
  exit 1
}

# set_ttl EMULATOR_BASE SECONDS: the lifetime of the access tokens the emulator issues next.
set_ttl() {
  curl -sf -o /dev/null -X POST -H 'content-type: application/json' \
    -d "{\"seconds\": $2}" "$1/__emulator/token_ttl"
}

# sign_in BASE: the whole flow (start route, the emulator's auto-approve, callback);
# prints the sealed session.
sign_in() {
  local base="$1" jar authorize callback value
  jar="$(mktemp -p "$WORK")"
  authorize="$(curl -sf -c "$jar" -o /dev/null -w '%{redirect_url}' "$base/auth/sign-in?return_to=%2F")"
  callback="$(curl -sf -o /dev/null -w '%{redirect_url}' "$authorize")"
  curl -sf -b "$jar" -c "$jar" -o /dev/null "$callback"
  value="$(awk '$6 == "wos-session" { print $7 }' "$jar")"
  [ -n "$value" ] || { echo "soak: signing in at $base failed" >&2; exit 1; }
  echo "$value"
}

# make_cookies FILE: the valid and foreign cookies, plus new expiring and expired ones.
make_cookies() {
  local file="$1" ttl
  cp "$WORK/base-cookies" "$file"
  set_ttl "$EMULATOR" 0
  for _ in 1 2 3 4; do echo "expired $(sign_in "$BASE")" >>"$file"; done
  # In the 30 s refresh window at once; one expires after 20 s, the others during the run.
  for i in 0 1 2 3; do
    ttl=$((20 + i * SECONDS_RUN / 4))
    set_ttl "$EMULATOR" "$ttl"
    echo "expiring $(sign_in "$BASE")" >>"$file"
  done
  set_ttl "$EMULATOR" 300
}

# ---- the demo under test, and a second one whose cookies are foreign to it.
PORT="$(free_port)"
EMULATOR_PORT="$(free_port)"
BASE="http://127.0.0.1:$PORT"
EMULATOR="http://127.0.0.1:$EMULATOR_PORT"
start_demo demo "$PORT" "$EMULATOR_PORT" "$(random_password)"
DEMO_PID=$LAST_PID
FOREIGN_PORT="$(free_port)"
start_demo foreign "$FOREIGN_PORT" "$(free_port)" "$(random_password)"
FOREIGN_PID=$LAST_PID
FOREIGN_BASE="http://127.0.0.1:$FOREIGN_PORT"

# Valid sessions outlive the warm-up, the run and the refresh window (60 s for tokens over
# 5 minutes).
set_ttl "$EMULATOR" $((WARMUP + SECONDS_RUN + 600))
for _ in 1 2; do echo "valid $(sign_in "$BASE")" >>"$WORK/base-cookies"; done
set_ttl "$EMULATOR" 300
for _ in 1 2; do echo "foreign $(sign_in "$FOREIGN_BASE")" >>"$WORK/base-cookies"; done
kill "$FOREIGN_PID"
valid="$(awk '$1 == "valid" { print $2; exit }' "$WORK/base-cookies")"
curl -sf -H "Cookie: wos-session=$valid" "$BASE$CHECK_PAGE" | grep -qF "$SIGNED_IN_MARK" \
  || { echo "soak: the protected page did not render for a signed-in user" >&2; exit 1; }

status_field() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$DEMO_PID/status"; }
fds() { find "/proc/$DEMO_PID/fd" -mindepth 1 -maxdepth 1 | wc -l; }
# tasks: the demo's alive tokio tasks (at most a second old; this count's own task included).
tasks() {
  local n
  n="$(cat "$WORK/demo.tasks" 2>/dev/null || true)"
  case "$n" in
    '' | *[!0-9]*) echo "soak: no task count from the demo in $WORK/demo.tasks" >&2; exit 1 ;;
  esac
  echo "$n"
}
mb() { awk -v kb="$1" 'BEGIN { printf "%.1f", kb / 1024 }'; }
sample() { # LABEL: one line of the demo's resources
  printf '%-12s rss %7s MB  peak %7s MB  fds %4s  threads %3s  tasks %4s\n' "$1" \
    "$(mb "$(status_field VmRSS)")" "$(mb "$(status_field VmHWM)")" "$(fds)" "$(status_field Threads)" "$(tasks)"
}

# run_wrk NAME SECONDS COOKIE_FILE: the mix for SECONDS; wrk's output in $WORK/NAME.out.
run_wrk() {
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$2s" --timeout 10s -s scripts/soak.lua "$BASE" \
    -- "$3" "$BASE" "$EMULATOR" "$APP" >"$WORK/$1.out" 2>&1 || true
  grep -q '^SOAK_RESULT' "$WORK/$1.out" || { echo "soak: wrk failed ($1):" >&2; cat "$WORK/$1.out" >&2; exit 1; }
}

# ---- warm-up: the same mix, with its own expiring and expired cookies.
make_cookies "$WORK/warmup-cookies"
echo "soak: warm-up, ${WARMUP}s × $CONNECTIONS connections"
run_wrk warmup "$WARMUP" "$WORK/warmup-cookies"
WARMUP_RESULT="$(grep '^SOAK_RESULT' "$WORK/warmup.out")"
grep '^SOAK' "$WORK/warmup.out" | sed 's/^/  warm-up /'

# ---- the run.
make_cookies "$WORK/run-cookies"
RSS_START="$(status_field VmRSS)"
FDS_START="$(fds)"
THREADS_START="$(status_field Threads)"
TASKS_START="$(tasks)"
sample start | tee "$WORK/samples"
(
  elapsed=0
  while sleep 10; do
    elapsed=$((elapsed + 10))
    sample "${elapsed}s"
  done
) >>"$WORK/samples" &
SAMPLER=$!
PIDS+=("$SAMPLER")
echo "soak: ${SECONDS_RUN}s × $CONNECTIONS connections against $BASE"
run_wrk run "$SECONDS_RUN" "$WORK/run-cookies"
kill "$SAMPLER"
wait "$SAMPLER" 2>/dev/null || true
kill -0 "$DEMO_PID" 2>/dev/null || { echo "soak: the demo died:" >&2; tail -20 "$WORK/demo.log" >&2; exit 1; }
RSS_END="$(status_field VmRSS)"
FDS_END="$(fds)"
THREADS_END="$(status_field Threads)"
TASKS_END="$(tasks)"
sample end >>"$WORK/samples"
tail -n +2 "$WORK/samples"
grep -v '^SOAK_RESULT' "$WORK/run.out"

# ---- after the run: idle keep-alive connections (the WorkOS client's pool to the
# in-process emulator, both ends in this process, each end with its connection task) and
# idle blocking threads close within ~90 s; wait for that before calling anything a leak.
settled=0
while [ "$(fds)" -gt $((FDS_START + FD_SLACK)) ] || [ "$(status_field Threads)" -gt $((THREADS_START + THREAD_SLACK)) ] \
  || [ "$(tasks)" -gt $((TASKS_START + TASK_SLACK)) ]; do
  [ "$settled" -ge 120 ] && break
  sleep 5
  settled=$((settled + 5))
done
FDS_SETTLED="$(fds)"
THREADS_SETTLED="$(status_field Threads)"
TASKS_SETTLED="$(tasks)"
RSS_SETTLED="$(status_field VmRSS)"
RSS_PEAK="$(status_field VmHWM)"
RSS_MAX_SAMPLED="$(awk '{ if ($3 > m) m = $3 } END { print m }' "$WORK/samples")"
sample "settled ${settled}s"
kill "$DEMO_PID"

read -r _ requests checked unexpected socket_errors <<<"$(grep '^SOAK_RESULT' "$WORK/run.out" | tr '=' ' ' | awk '{ print $1, $3, $5, $7, $9 }')"
read -r _ w_requests _ w_unexpected w_socket_errors <<<"$(tr '=' ' ' <<<"$WARMUP_RESULT" | awk '{ print $1, $3, $5, $7, $9 }')"

failures=()
[ "$checked" = "$requests" ] || failures+=("$requests requests but $checked checked responses")
[ "$unexpected" = 0 ] || failures+=("$unexpected unexpected responses")
[ "$socket_errors" = 0 ] || failures+=("$socket_errors socket errors")
[ "$w_unexpected" = 0 ] || failures+=("$w_unexpected unexpected responses during the warm-up")
[ "$w_socket_errors" = 0 ] || failures+=("$w_socket_errors socket errors during the warm-up")
[ "$FDS_SETTLED" -le $((FDS_START + FD_SLACK)) ] \
  || failures+=("file descriptors grew from $FDS_START to $FDS_SETTLED")
[ "$THREADS_SETTLED" -le $((THREADS_START + THREAD_SLACK)) ] \
  || failures+=("threads grew from $THREADS_START to $THREADS_SETTLED")
[ "$TASKS_SETTLED" -le $((TASKS_START + TASK_SLACK)) ] \
  || failures+=("tokio tasks grew from $TASKS_START to $TASKS_SETTLED")

rate="$(sed -n 's/^SOAK requests .* = \([0-9]*\/s\);.*$/\1/p' "$WORK/run.out")"
latency="$(sed -n 's/^SOAK requests .*; latency \(.*\)$/\1/p' "$WORK/run.out")"
cpu="$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
echo
echo "### Soak run ($(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) cores, ${cpu:-unknown CPU}; $(uname -sr))"
echo
echo "scripts/soak.sh: ${SECONDS_RUN} s × ${CONNECTIONS} connections (wrk, ${THREADS} threads) against the ${APP}'s release build, after a ${WARMUP} s warm-up (${w_requests} requests)."
echo
echo "| figure | value |"
echo "|---|---|"
echo "| requests | ${requests} (${rate}); latency ${latency} |"
echo "| unexpected statuses | ${unexpected} (warm-up: ${w_unexpected}) |"
echo "| socket errors and timeouts | ${socket_errors} (warm-up: ${w_socket_errors}) |"
echo "| RSS after warm-up / peak (VmHWM) / highest sample / end / settled | $(mb "$RSS_START") / $(mb "$RSS_PEAK") / ${RSS_MAX_SAMPLED} / $(mb "$RSS_END") / $(mb "$RSS_SETTLED") MB |"
echo "| open file descriptors: start / end / settled | ${FDS_START} / ${FDS_END} / ${FDS_SETTLED} (after ${settled} s) |"
echo "| threads: start / end / settled | ${THREADS_START} / ${THREADS_END} / ${THREADS_SETTLED} |"
echo "| tokio tasks alive (one is the counting task): start / end / settled | ${TASKS_START} / ${TASKS_END} / ${TASKS_SETTLED} |"
echo
echo "| cookie, page | requests | unexpected | signed-in renders | statuses |"
echo "|---|---:|---:|---:|---|"
awk '/^SOAK [a-z]+ (open|protected) / {
  statuses = ""; for (i = 7; i <= NF; i++) statuses = statuses (i > 7 ? " " : "") $i
  printf "| %s, %s | %s | %s | %s | %s |\n", $2, $3, $4, $5, $6, statuses
}' "$WORK/run.out"
echo
if [ "${#failures[@]}" -eq 0 ]; then
  echo "soak: PASS"
else
  printf 'soak: FAIL: %s\n' "${failures[@]}"
  exit 1
fi
