// Drives the real `@workos-inc/node` SDK (10.14.0), unchanged, against the emulator's
// events, sessions and webhooks: a webhook endpoint that verifies every delivery with
// `webhooks.constructEvent`, two sign-ins that pass the browser's address and user agent,
// `userManagement.listSessions` and `revokeSession`, and `events.listEvents` with filters
// and cursors.
//
// Run by tests/it/interop/workos_node.rs, which starts the emulator (auto-approve) with its
// webhook pointed at http://127.0.0.1:$WEBHOOK_PORT/webhooks and secret $WEBHOOK_SECRET,
// and passes EMULATOR_BASE_URL, EMULATOR_CLIENT_ID and EMULATOR_API_KEY. Prints one JSON
// line on success; exits 1 with the failed step on stderr otherwise.
import { createServer } from 'node:http';
import { WorkOS } from '@workos-inc/node';

const base = new URL(process.env.EMULATOR_BASE_URL);
const clientId = process.env.EMULATOR_CLIENT_ID;
const apiKey = process.env.EMULATOR_API_KEY;
const webhookPort = Number(process.env.WEBHOOK_PORT);
const secret = process.env.WEBHOOK_SECRET;
const redirectUri = 'http://localhost:3000/callback';

const workos = new WorkOS(apiKey, {
  apiHostname: base.hostname,
  https: false,
  port: Number(base.port),
  clientId,
});
const um = workos.userManagement;
const steps = [];

function check(condition, message) {
  if (!condition) throw new Error(message);
}

async function step(name, fn) {
  try {
    await fn();
    steps.push(name);
  } catch (error) {
    console.error(`step "${name}" failed: ${error?.stack ?? error}`);
    process.exit(1);
  }
}

// What the endpoint received: the raw body, the signature header and what constructEvent
// made of them (or the error it threw).
const deliveries = [];
let server;

async function signIn(ipAddress, userAgent) {
  const pkce = await workos.pkce.generate();
  const url = um.getAuthorizationUrl({
    provider: 'authkit',
    clientId,
    redirectUri,
    codeChallenge: pkce.codeChallenge,
    codeChallengeMethod: 'S256',
    loginHint: 'ada@example.com',
  });
  const response = await fetch(url, { redirect: 'manual' });
  check(response.status === 302, `authorize: status ${response.status}`);
  const code = new URL(response.headers.get('location')).searchParams.get('code');
  check(code, 'no code');
  return um.authenticateWithCode({
    clientId,
    code,
    codeVerifier: pkce.codeVerifier,
    ipAddress,
    userAgent,
  });
}

function sessionId(auth) {
  const payload = JSON.parse(Buffer.from(auth.accessToken.split('.')[1], 'base64url'));
  return payload.sid;
}

async function waitForDeliveries(count) {
  const deadline = Date.now() + 10_000;
  while (deliveries.length < count) {
    check(Date.now() < deadline, `only ${deliveries.length} of ${count} webhooks arrived`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

let first;
let second;
let userId;

await step('a webhook endpoint verifies each delivery with constructEvent', async () => {
  server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', async () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const sigHeader = req.headers['workos-signature'];
      try {
        const event = await workos.webhooks.constructEvent({ payload: raw, sigHeader, secret });
        deliveries.push({ raw, sigHeader, event });
        res.writeHead(200).end();
      } catch (error) {
        deliveries.push({ raw, sigHeader, error });
        res.writeHead(400).end();
      }
    });
  });
  await new Promise((resolve) => server.listen(webhookPort, '127.0.0.1', resolve));
});

await step('two sign-ins pass ipAddress and userAgent to authenticateWithCode', async () => {
  first = await signIn('203.0.113.10', 'Mozilla/5.0 (first browser)');
  second = await signIn('203.0.113.20', 'Mozilla/5.0 (second browser)');
  userId = first.user.id;
  check(second.user.id === userId, 'same user');
});

await step('listSessions lists both, newest first, in the SDK shape', async () => {
  const sessions = await um.listSessions(userId);
  check(sessions.data.length === 2, `${sessions.data.length} sessions`);
  const [newest, oldest] = sessions.data;
  check(newest.id === sessionId(second) && oldest.id === sessionId(first), 'newest first');
  check(newest.object === 'session' && newest.userId === userId, 'object, userId');
  check(newest.ipAddress === '203.0.113.20', `ipAddress ${newest.ipAddress}`);
  check(newest.userAgent === 'Mozilla/5.0 (second browser)', `userAgent ${newest.userAgent}`);
  check(newest.organizationId === second.organizationId, 'organizationId');
  check(newest.status === 'active' && newest.authMethod === 'password', 'status, authMethod');
  check(newest.endedAt === null && typeof newest.expiresAt === 'string', 'endedAt, expiresAt');
  check(typeof newest.createdAt === 'string' && typeof newest.updatedAt === 'string', 'times');
  const all = await sessions.autoPagination();
  check(all.length === 2, `autoPagination: ${all.length}`);
  const page = await um.listSessions(userId, { limit: 1 });
  check(page.data.length === 1 && page.listMetadata.after === newest.id, 'limit and after');
  const next = await um.listSessions(userId, { limit: 1, after: page.listMetadata.after });
  check(next.data[0]?.id === oldest.id, 'the next page');
});

await step('revokeSession ends a session and its refresh token', async () => {
  await um.revokeSession({ sessionId: sessionId(first) });
  const sessions = await um.listSessions(userId);
  check(sessions.data.length === 1 && sessions.data[0].id === sessionId(second), 'one left');
  let error;
  try {
    await um.authenticateWithRefreshToken({ clientId, refreshToken: first.refreshToken });
  } catch (e) {
    error = e;
  }
  check(error?.error === 'invalid_grant', `refresh after revoke: ${error?.name} ${error?.message}`);
});

await step('constructEvent accepts every webhook unchanged, in order', async () => {
  await waitForDeliveries(3);
  for (const d of deliveries) {
    check(!d.error, `constructEvent refused a delivery: ${d.error}`);
  }
  const kinds = deliveries.map((d) => d.event.event);
  check(
    JSON.stringify(kinds) === JSON.stringify(['session.created', 'session.created', 'session.revoked']),
    `events ${kinds}`,
  );
  const [created, , revoked] = deliveries.map((d) => d.event);
  check(created.id.startsWith('event_') && typeof created.createdAt === 'string', 'id, createdAt');
  check(created.data.id === sessionId(first) && created.data.userId === userId, 'session data');
  check(created.data.ipAddress === '203.0.113.10', `ipAddress ${created.data.ipAddress}`);
  check(revoked.data.id === sessionId(first) && revoked.data.status === 'revoked', 'revoked');
  check(typeof revoked.data.endedAt === 'string', 'endedAt');
  // Express-style apps hand constructEvent the parsed body: it verifies too.
  const d = deliveries[0];
  await workos.webhooks.constructEvent({ payload: JSON.parse(d.raw), sigHeader: d.sigHeader, secret });
  // A changed body, another secret or an old timestamp is refused.
  const refused = async (options, why) => {
    let error;
    try {
      await workos.webhooks.constructEvent({ payload: d.raw, sigHeader: d.sigHeader, secret, ...options });
    } catch (e) {
      error = e;
    }
    check(error?.name === 'SignatureVerificationException', `${why}: ${error?.name ?? 'accepted'}`);
  };
  await refused({ payload: d.raw.replace('session.created', 'session.revoked') }, 'tampered body');
  await refused({ secret: `${secret}x` }, 'wrong secret');
  await refused({ tolerance: -60_000 }, 'timestamp outside the tolerance');
});

await step('listEvents lists the same events oldest first, filters and pages', async () => {
  const events = ['session.created', 'session.revoked'];
  const ids = deliveries.map((d) => d.event.id);
  const all = await workos.events.listEvents({ events });
  check(JSON.stringify(all.data.map((e) => e.id)) === JSON.stringify(ids), 'same ids, same order');
  check(all.data[2].event === 'session.revoked' && all.data[2].data.status === 'revoked', 'data');
  check(all.listMetadata.after === null, `after ${all.listMetadata.after}`);
  const only = await workos.events.listEvents({ events: ['session.revoked'] });
  check(only.data.length === 1 && only.data[0].id === ids[2], 'one type');
  const inOrg = await workos.events.listEvents({ events, organizationId: first.organizationId });
  check(inOrg.data.length === 3, `organizationId: ${inOrg.data.length}`);
  const elsewhere = await workos.events.listEvents({ events, organizationId: 'org_elsewhere' });
  check(elsewhere.data.length === 0, 'another organization');
  // A poller: one event at a time, resuming from `after`.
  const seen = [];
  let after;
  for (;;) {
    const page = await workos.events.listEvents({ events, limit: 1, after });
    seen.push(...page.data.map((e) => e.id));
    if (!page.listMetadata.after) break;
    after = page.listMetadata.after;
  }
  check(JSON.stringify(seen) === JSON.stringify(ids), `paged ${seen}`);
  const since = await workos.events.listEvents({ events, rangeStart: all.data[1].createdAt });
  check(since.data.every((e) => e.createdAt >= all.data[1].createdAt), 'rangeStart');
});

server.close();
console.log(JSON.stringify({ ok: true, steps, deliveries: deliveries.length }));
