// The per-request auth path of authkit-nextjs, timed for benches/per_request.rs (the Node
// peer of its `node/unseal+jwtVerify` line): `unsealData` from iron-session (the cookie)
// then `jwtVerify` from jose against a JWKS already in memory (authkit-nextjs's
// `createRemoteJWKSet` after its first fetch), on the cookie and token the bench made.
//
// stdin:  {"cookie": <sealed wos-session value>, "password": <string>, "jwks": <JWKS json>,
//          "iterations": <n>, "warmup": <n>}
// stdout: {"mean_us": <mean microseconds per request>, "iterations": <n>, "sub": <claims.sub>}
import { unsealData } from "iron-session";
import { createLocalJWKSet, jwtVerify } from "jose";

let input = "";
for await (const chunk of process.stdin) input += chunk;
const { cookie, password, jwks, iterations, warmup } = JSON.parse(input);
const keys = createLocalJWKSet(jwks);

async function once() {
  const session = await unsealData(cookie, { password });
  const { payload } = await jwtVerify(session.accessToken, keys);
  return payload.sub;
}

let sub;
for (let i = 0; i < warmup; i++) sub = await once();
const start = process.hrtime.bigint();
for (let i = 0; i < iterations; i++) sub = await once();
const elapsed = Number(process.hrtime.bigint() - start) / 1000;
process.stdout.write(JSON.stringify({ mean_us: elapsed / iterations, iterations, sub }));
