// Drives the real `@workos-inc/node` SDK (10.14.0) against the authkit-leptos emulator for
// the answers that ask for one more step (#26 item 6) and for a public client (#26 item 2):
// the SDK must read the emulator's `organization_selection_required` and
// `email_verification_required` as its own `AuthenticationException`s, complete the
// selection with `authenticateWithOrganizationSelection`, and sign in and refresh as a
// client with no API key.
//
// Run by tests/it/interop/workos_node.rs, which starts the emulator (auto-approve, Ada
// choosing her organization at the app, Eve needing email verification) and passes
// EMULATOR_BASE_URL, EMULATOR_CLIENT_ID and EMULATOR_API_KEY. Prints one JSON line on
// success; exits 1 with the failed step on stderr otherwise.
import { WorkOS } from '@workos-inc/node';

const base = new URL(process.env.EMULATOR_BASE_URL);
const clientId = process.env.EMULATOR_CLIENT_ID;
const apiKey = process.env.EMULATOR_API_KEY;
const redirectUri = 'http://localhost:3000/callback';
const host = { apiHostname: base.hostname, https: false, port: Number(base.port), clientId };

const workos = new WorkOS(apiKey, host);
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

// Auto-approve for `email`: a code and its PKCE verifier.
async function codeFor(client, email) {
  const pkce = await client.pkce.generate();
  const url = client.userManagement.getAuthorizationUrl({
    provider: 'authkit',
    clientId,
    redirectUri,
    loginHint: email,
    codeChallenge: pkce.codeChallenge,
    codeChallengeMethod: 'S256',
  });
  const response = await fetch(url, { redirect: 'manual' });
  check(response.status === 302, `status ${response.status}`);
  const code = new URL(response.headers.get('location')).searchParams.get('code');
  check(code, 'no code');
  return { code, codeVerifier: pkce.codeVerifier };
}

async function failure(promise) {
  try {
    await promise;
  } catch (e) {
    return e;
  }
  throw new Error('the call should have failed');
}

let pending;

await step('organization_selection_required is an AuthenticationException with the organizations', async () => {
  const { code, codeVerifier } = await codeFor(workos, 'ada@example.com');
  const error = await failure(workos.userManagement.authenticateWithCode({ clientId, code, codeVerifier }));
  check(error.name === 'AuthenticationException', `${error.name}: ${error.message}`);
  check(error.rawData.code === 'organization_selection_required', JSON.stringify(error.rawData));
  check(typeof error.pendingAuthenticationToken === 'string', 'no pending token');
  const names = error.rawData.organizations.map((o) => o.name).join(',');
  check(names === 'Acme,Globex,Umbrella', names);
  check(error.rawData.user.email === 'ada@example.com', JSON.stringify(error.rawData.user));
  pending = error;
});

await step('authenticateWithOrganizationSelection signs in to the chosen organization', async () => {
  const organizationId = pending.rawData.organizations[1].id;
  const auth = await workos.userManagement.authenticateWithOrganizationSelection({
    clientId,
    pendingAuthenticationToken: pending.pendingAuthenticationToken,
    organizationId,
  });
  check(auth.user.email === 'ada@example.com', auth.user.email);
  check(auth.organizationId === organizationId, `${auth.organizationId} vs ${organizationId}`);
  check(auth.accessToken && auth.refreshToken, 'no tokens');
});

await step('email_verification_required carries the token and the email', async () => {
  const { code, codeVerifier } = await codeFor(workos, 'eve@example.com');
  const error = await failure(workos.userManagement.authenticateWithCode({ clientId, code, codeVerifier }));
  check(error.name === 'AuthenticationException', `${error.name}: ${error.message}`);
  check(error.rawData.code === 'email_verification_required', JSON.stringify(error.rawData));
  check(typeof error.pendingAuthenticationToken === 'string', 'no pending token');
  check(error.rawData.email === 'eve@example.com', JSON.stringify(error.rawData));
});

await step('a public client signs in and refreshes with the client id alone', async () => {
  const publicClient = new WorkOS(host);
  const { code, codeVerifier } = await codeFor(publicClient, 'grace@example.com');
  const auth = await publicClient.userManagement.authenticateWithCode({ clientId, code, codeVerifier });
  check(auth.user.email === 'grace@example.com', auth.user.email);
  const refreshed = await publicClient.userManagement.authenticateWithRefreshToken({
    clientId,
    refreshToken: auth.refreshToken,
  });
  check(refreshed.refreshToken !== auth.refreshToken, 'the refresh token rotates');
});

console.log(JSON.stringify({ ok: true, steps }));
