// Verifies entitlement tokens with the jose package against the key set Licenzy serves. Reads a
// JSON array of {token, jwks, issuer, audience, now} on stdin (now in unix seconds: the tests run
// on a fake clock) and prints, for each, {ok: true, header, payload} or {ok: false, code}.
import { createLocalJWKSet, jwtVerify } from "jose";

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", async () => {
  const results = await Promise.all(JSON.parse(input).map(async ({ token, jwks, issuer, audience, now }) => {
    try {
      const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(jwks), {
        issuer, audience, algorithms: ["EdDSA"], currentDate: new Date(now * 1000),
      });
      return { ok: true, header: protectedHeader, payload };
    } catch (error) {
      return { ok: false, code: error.code || String(error.message || error) };
    }
  }));
  process.stdout.write(JSON.stringify(results));
});
