// Runs a batch of seal/unseal operations with the real iron-session (the library
// authkit-nextjs seals its cookies with) for tests/it/interop/iron_session.rs.
//
// stdin:  a JSON array of operations
//   {"op": "seal",   "data": <json>, "password": <string | {id: string}>, "ttl": <seconds>}
//   {"op": "unseal", "seal": <string>, "password": <string | {id: string}>}
//   {"op": "seal_legacy", "data": <json>, "password": <string>}
//       a v1 seal (no `~2` suffix) of {persistent: data}, as iron-session 6 wrote them
// stdout: a JSON array of results, one per operation, in order
//   {"ok": true, "value": <string seal | unsealed json>, "json": <JSON.stringify of value>}
//   {"ok": false, "error": <message>}
import { sealData, unsealData } from "iron-session";
import * as Iron from "iron-webcrypto";

async function run(op) {
  switch (op.op) {
    case "seal":
      return sealData(op.data, { password: op.password, ttl: op.ttl ?? 0 });
    case "unseal":
      return unsealData(op.seal, { password: op.password });
    case "seal_legacy":
      return Iron.seal(globalThis.crypto, { persistent: op.data }, { id: "1", secret: op.password }, Iron.defaults);
    default:
      throw new Error(`unknown op ${op.op}`);
  }
}

let input = "";
for await (const chunk of process.stdin) input += chunk;
const results = [];
for (const op of JSON.parse(input)) {
  try {
    const value = await run(op);
    results.push({ ok: true, value, json: JSON.stringify(value) });
  } catch (e) {
    results.push({ ok: false, error: String(e && e.message ? e.message : e) });
  }
}
process.stdout.write(JSON.stringify(results));
