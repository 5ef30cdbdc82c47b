-- wrk script of the soak run (scripts/soak.sh; #11 R5): a mix of open and protected pages
-- of the demo, requested with valid, expiring, expired, tampered, foreign and garbage
-- session cookies and with none, and every response checked against what that kind of
-- request must get.
--
-- wrk cannot tell which request a response belongs to, so each wrk thread sends one kind
-- of request (a cookie kind and a page class, the SLOTS below; run wrk with -t 16) and
-- checks its own responses. Arguments after `--`: the cookie file (lines `<kind> <value>`
-- for the kinds valid, expiring, expired and foreign; tampered and garbage cookies are
-- made here from the first valid one), the app's base URL, the emulator's, and which app
-- (`demo`, the default, or `example`: examples/start-axum, SOAK_APP=example).
--
-- What each response must be:
--   open page (200 for everyone): a signed-in render for a valid cookie, a signed-out one
--     for no, tampered, foreign or garbage cookies, either for expiring/expired cookies
--     (their refresh succeeds once; replays of the spent refresh token after the refresh's
--     grace period are refused, as a replay from another browser should be);
--   protected page: 200 and signed in for a valid cookie; a redirect to sign-in (the
--     WorkOS authorize URL or the app's sign-in route) for no, tampered, foreign or garbage
--     cookies; either for expiring/expired ones.
-- Anything else — another status, a redirect elsewhere, an error rendered in a 200, a
-- signed-in page for a bad cookie — counts as unexpected, with examples in the summary.

local SLOTS = {
  { "valid", "open" }, { "valid", "protected" }, { "valid", "open" }, { "valid", "protected" },
  { "anonymous", "open" }, { "anonymous", "protected" },
  { "expiring", "open" }, { "expiring", "protected" },
  { "expired", "open" }, { "expired", "protected" },
  { "tampered", "open" }, { "tampered", "protected" },
  { "foreign", "open" }, { "foreign", "protected" },
  { "garbage", "open" }, { "garbage", "protected" },
}

-- Per app: its open and protected pages, and what only a signed-in render shows (the
-- nav's account: the demo's `signed-in-as`, the example's user email — the emulator
-- signs everyone in as ada@example.com there).
local APPS = {
  demo = {
    open = { "/", "/about", "/dashboard", "/profile", "/features", "/data" },
    protected = { "/protected", "/protected/about", "/protected/async", "/protected/in-order", "/team" },
    signed_in_mark = 'id="signed-in-as"',
  },
  example = {
    open = { "/" },
    protected = { "/dashboard" },
    signed_in_mark = "ada@example.com",
  },
}

-- What a page shows for an error it rendered.
local ERROR_MARK = 'class="error"'

-- ---------------------------------------------------------------- setup (main state)

local threads = {}
local next_slot = 1

function setup(thread)
  thread:set("slot", next_slot)
  table.insert(threads, thread)
  next_slot = next_slot + 1
end

-- ---------------------------------------------------------------- running (per thread)

local function replace_at(s, pos, with)
  return s:sub(1, pos - 1) .. with .. s:sub(pos + 1)
end

local function flip_at(s, pos)
  local c = s:sub(pos, pos)
  return replace_at(s, pos, c == "A" and "B" or "A")
end

-- An iron seal is Fe26.2*id*salt*iv*ciphertext*expiry*hmac_salt*hmac (then `~2` from
-- iron-session); returns the start and end of component `n`.
local function component(seal, n)
  local start, i = 1, 1
  while i < n do
    start = seal:find("*", start, true) + 1
    i = i + 1
  end
  local stop = (seal:find("*", start, true) or (#seal + 1)) - 1
  return start, stop
end

local function tampered_from(seal)
  local out = {}
  local s, e = component(seal, 5)
  table.insert(out, flip_at(seal, math.floor((s + e) / 2))) -- a byte of the ciphertext
  s, e = component(seal, 8)
  table.insert(out, flip_at(seal, s + 3)) -- a byte of the MAC
  s, e = component(seal, 4)
  table.insert(out, flip_at(seal, s + 1)) -- a byte of the IV
  table.insert(out, seal:sub(1, #seal - 12)) -- truncated
  s, e = component(seal, 2)
  table.insert(out, seal:sub(1, s - 1) .. "2" .. seal:sub(e + 1)) -- another password id
  return out
end

local GARBAGE = {
  "garbage",
  "Fe26.2*1*garbage~2",
  "Fe26.2********",
  "Fe26.2*1*" .. string.rep("*", 40),
  string.rep("A", 3000),
  "%00%ff%fe%3B",
  "\195\169t\195\169\226\128\139", -- UTF-8 text and a zero-width space
  "\255\254\128", -- bytes that are not UTF-8
  "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ1c2VyXzEifQ.", -- a JWT where a seal belongs
  "",
}

local requests = {}
local count = 0
local next_request = 1

function init(args)
  local file, base, emulator = args[1], args[2], args[3]
  local app = APPS[args[4] or "demo"]
  assert(app, "unknown app " .. tostring(args[4]))
  signed_in_mark = app.signed_in_mark
  kind = SLOTS[slot][1]
  class = SLOTS[slot][2]
  sign_in_prefixes = { emulator .. "/user_management/authorize", "/auth/sign-in", base .. "/auth/sign-in" }
  -- Flat globals: wrk's thread:get() cannot copy nested tables.
  n_total, n_unexpected, n_signed_in = 0, 0, 0
  statuses, examples = {}, {}

  local cookies = { valid = {}, expiring = {}, expired = {}, foreign = {} }
  for line in io.lines(file) do
    local k, v = line:match("^(%S+) (%S+)$")
    if k and cookies[k] then
      table.insert(cookies[k], v)
    end
  end
  assert(#cookies.valid > 0, "no valid cookie in " .. file)
  cookies.tampered = tampered_from(cookies.valid[1])
  cookies.garbage = GARBAGE

  local mine = cookies[kind]
  for _, page in ipairs(app[class]) do
    if kind == "anonymous" then
      table.insert(requests, wrk.format("GET", page, { Accept = "text/html" }))
    else
      assert(mine and #mine > 0, "no cookie of kind " .. kind)
      for _, value in ipairs(mine) do
        local cookie = "wos-session=" .. value
        if kind == "garbage" and value == "" then
          cookie = "wos-session.0=abc; wos-session.1=def" -- a split session of nonsense
        end
        table.insert(requests, wrk.format("GET", page, { Accept = "text/html", Cookie = cookie }))
      end
    end
  end
  count = #requests
  next_request = (slot * 7) % count + 1
end

function request()
  local r = requests[next_request]
  next_request = next_request % count + 1
  return r
end

local function starts_with(s, prefix)
  return s:sub(1, #prefix) == prefix
end

local function to_sign_in(location)
  if not location then
    return false
  end
  for _, prefix in ipairs(sign_in_prefixes) do
    if starts_with(location, prefix) then
      return true
    end
  end
  return false
end

-- Why the response is not what this kind of request must get, or nil.
local function problem(status, headers, body)
  local location = headers["location"] or headers["Location"]
  local signed_in = status == 200 and body:find(signed_in_mark, 1, true) ~= nil
  if signed_in then
    n_signed_in = n_signed_in + 1
  end
  if status == 200 and body:find(ERROR_MARK, 1, true) then
    return "an error rendered"
  end
  local good = kind == "valid"
  local bad = kind == "anonymous" or kind == "tampered" or kind == "foreign" or kind == "garbage"
  if class == "open" then
    if status ~= 200 then
      return "not 200"
    end
    if good and not signed_in then
      return "signed out with a valid cookie"
    end
    if bad and signed_in then
      return "signed in with a " .. kind .. " cookie"
    end
    return nil
  end
  if status == 200 then
    if bad then
      return "a protected page served to a " .. kind .. " cookie"
    end
    if not signed_in then
      return "a protected page rendered signed out"
    end
    return nil
  end
  if status == 302 or status == 303 or status == 307 then
    if not to_sign_in(location) then
      return "redirect elsewhere: " .. tostring(location)
    end
    if good then
      return "sent to sign in with a valid cookie"
    end
    return nil
  end
  return "unexpected status"
end

function response(status, headers, body)
  n_total = n_total + 1
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
  local why = problem(status, headers, body)
  if why then
    n_unexpected = n_unexpected + 1
    if #examples < 5 then
      local excerpt = body:sub(1, 200):gsub("%s+", " ")
      table.insert(examples, status .. " " .. why .. " | " .. excerpt)
    end
  end
end

-- ---------------------------------------------------------------- done (main state)

function done(summary, latency, _)
  local rows, order = {}, {}
  local total, unexpected, signed_in = 0, 0, 0
  for _, thread in ipairs(threads) do
    local s = {
      total = thread:get("n_total"),
      unexpected = thread:get("n_unexpected"),
      signed_in = thread:get("n_signed_in"),
      statuses = thread:get("statuses"),
      examples = thread:get("examples"),
    }
    local label = thread:get("kind") .. " " .. thread:get("class")
    if not rows[label] then
      rows[label] = { total = 0, unexpected = 0, signed_in = 0, statuses = {}, examples = {} }
      table.insert(order, label)
    end
    local row = rows[label]
    row.total = row.total + s.total
    row.unexpected = row.unexpected + s.unexpected
    row.signed_in = row.signed_in + s.signed_in
    for k, v in pairs(s.statuses) do
      row.statuses[k] = (row.statuses[k] or 0) + v
    end
    for _, e in ipairs(s.examples) do
      table.insert(row.examples, e)
    end
    total = total + s.total
    unexpected = unexpected + s.unexpected
    signed_in = signed_in + s.signed_in
  end
  local e = summary.errors
  local socket_errors = e.connect + e.read + e.write + e.timeout
  local seconds = summary.duration / 1e6
  io.write(string.format("SOAK requests %d in %.1f s = %.0f/s; latency p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
  io.write(string.format("SOAK socket errors: connect %d, read %d, write %d, timeout %d\n",
    e.connect, e.read, e.write, e.timeout))
  io.write(string.format("SOAK %-20s %9s %10s %10s  %s\n", "cookie page", "requests", "unexpected", "signed-in", "statuses"))
  for _, label in ipairs(order) do
    local row = rows[label]
    local statuses = {}
    for k, v in pairs(row.statuses) do
      table.insert(statuses, k .. "×" .. v)
    end
    table.sort(statuses)
    io.write(string.format("SOAK %-20s %9d %10d %10d  %s\n", label, row.total, row.unexpected, row.signed_in,
      table.concat(statuses, " ")))
    for _, example in ipairs(row.examples) do
      io.write("SOAK   unexpected: " .. example .. "\n")
    end
  end
  io.write(string.format("SOAK checked %d responses, %d unexpected, %d socket errors\n", total, unexpected, socket_errors))
  io.write(string.format("SOAK_RESULT requests=%d checked=%d unexpected=%d socket_errors=%d\n",
    summary.requests, total, unexpected, socket_errors))
end
