// Drives the real `@workos-inc/node` SDK (10.14.0) and `jose` (5.10.0) against a running
// authkit-leptos emulator, unchanged: authorization URL, authenticateWithCode with PKCE,
// jwtVerify against the JWKS, authenticateWithRefreshToken twice with one token (the second
// must fail invalid_grant), the logout URL, and the read endpoints.
//
// Run by tests/it/interop/workos_node.rs, which starts the emulator (auto-approve) and passes
// EMULATOR_BASE_URL, EMULATOR_CLIENT_ID and EMULATOR_API_KEY. Prints one JSON line on
// success; exits 1 with the failed step on stderr otherwise.
import { WorkOS } from '@workos-inc/node';
import { createRemoteJWKSet, jwtVerify } from 'jose';

const base = new URL(process.env.EMULATOR_BASE_URL);
const clientId = process.env.EMULATOR_CLIENT_ID;
const apiKey = process.env.EMULATOR_API_KEY;
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

async function expectInvalidGrant(refreshToken, why) {
  let error;
  try {
    await um.authenticateWithRefreshToken({ clientId, refreshToken });
  } catch (e) {
    error = e;
  }
  check(error, `${why}: the refresh should have failed`);
  check(error.name === 'OauthException', `${why}: got ${error.name}: ${error.message}`);
  check(error.status === 400, `${why}: status ${error.status}`);
  check(error.error === 'invalid_grant', `${why}: error ${error.error}`);
}

let auth;
let codeVerifier;
let code;
let claims;
let rotated;
// An authkit-nextjs sealed state has `*` and `~`; it must come back byte for byte.
const state = 'Fe26.2**0a1b2c*d3e4f5*Zm9v*~2 + /?=&';

await step('authorization URL redirects back with a code and the state', async () => {
  const pkce = await workos.pkce.generate();
  codeVerifier = pkce.codeVerifier;
  const url = um.getAuthorizationUrl({
    provider: 'authkit',
    clientId,
    redirectUri,
    state,
    codeChallenge: pkce.codeChallenge,
    codeChallengeMethod: 'S256',
    screenHint: 'sign-in',
  });
  check(url.startsWith(`${base.origin}/user_management/authorize?`), url);
  const response = await fetch(url, { redirect: 'manual' });
  check(response.status === 302, `status ${response.status}`);
  const location = new URL(response.headers.get('location'));
  check(`${location.origin}${location.pathname}` === redirectUri, location.href);
  check(location.searchParams.get('state') === state, `state came back as ${location.searchParams.get('state')}`);
  code = location.searchParams.get('code');
  check(code, 'no code');
});

await step('authenticateWithCode (PKCE) returns the user and tokens', async () => {
  auth = await um.authenticateWithCode({ clientId, code, codeVerifier });
  check(typeof auth.accessToken === 'string' && typeof auth.refreshToken === 'string', 'tokens');
  for (const key of ['object', 'id', 'email', 'emailVerified', 'firstName', 'lastName', 'name',
    'profilePictureUrl', 'lastSignInAt', 'locale', 'createdAt', 'updatedAt', 'externalId', 'metadata']) {
    check(auth.user[key] !== undefined, `user.${key} is missing`);
  }
  check(auth.user.object === 'user', 'user.object');
  check(auth.user.emailVerified === true, 'emailVerified');
  check(typeof auth.organizationId === 'string', 'organizationId');
  check(typeof auth.authenticationMethod === 'string', 'authenticationMethod');
});

await step('the code is single use', async () => {
  let error;
  try {
    await um.authenticateWithCode({ clientId, code, codeVerifier });
  } catch (e) {
    error = e;
  }
  check(error?.error === 'invalid_grant', `replayed code: ${error?.name} ${error?.message}`);
});

await step('jose jwtVerify accepts the access token against the JWKS', async () => {
  const jwks = createRemoteJWKSet(new URL(um.getJwksUrl(clientId)));
  const { payload, protectedHeader } = await jwtVerify(auth.accessToken, jwks);
  check(protectedHeader.alg === 'RS256' && protectedHeader.kid, 'header');
  check(payload.sub === auth.user.id, 'sub must equal user.id');
  check(payload.org_id === auth.organizationId, 'org_id');
  check(typeof payload.sid === 'string' && typeof payload.jti === 'string', 'sid/jti');
  check(Array.isArray(payload.permissions) && typeof payload.role === 'string', 'role/permissions');
  check(Array.isArray(payload.feature_flags) && Array.isArray(payload.entitlements), 'flags/entitlements');
  check(payload.exp > payload.iat && typeof payload.auth_time === 'number', 'times');
  claims = payload;
});

await step('authenticateWithRefreshToken rotates; reusing the old token fails invalid_grant', async () => {
  rotated = await um.authenticateWithRefreshToken({ clientId, refreshToken: auth.refreshToken });
  check(rotated.refreshToken !== auth.refreshToken, 'the refresh token must rotate');
  check(rotated.user.id === auth.user.id, 'same user');
  await expectInvalidGrant(auth.refreshToken, 'second use of the same refresh token');
});

await step('read endpoints: user, organization, memberships', async () => {
  const user = await um.getUser(auth.user.id);
  check(user.email === auth.user.email, 'getUser');
  const org = await workos.organizations.getOrganization(auth.organizationId);
  check(org.id === auth.organizationId && typeof org.name === 'string', 'getOrganization');
  const memberships = await um.listOrganizationMemberships({ userId: auth.user.id });
  check(memberships.data.some((m) => m.organizationId === auth.organizationId), 'listOrganizationMemberships');
});

await step('logout URL ends the session and redirects to returnTo', async () => {
  const returnTo = 'http://localhost:3000/signed-out';
  const url = um.getLogoutUrl({ sessionId: claims.sid, returnTo });
  const response = await fetch(url, { redirect: 'manual' });
  check(response.status === 302, `status ${response.status}`);
  check(response.headers.get('location') === returnTo, response.headers.get('location'));
  await expectInvalidGrant(rotated.refreshToken, 'refresh after logout');
});

console.log(JSON.stringify({ ok: true, steps }));
