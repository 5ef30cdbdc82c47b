// Smoke versions of the performance figures (BENCHMARKS.md), as correctness checks on the
// demo binary: counts, never timings. Requests go out with Node's fetch (no cookie jar),
// each carrying the cookie a browser would.
import { test, expect, adaInAcme, pickUser, signIn, setTokenTtl, emulator, hydrated, screenshot } from "./support";
import type { BrowserContext } from "@playwright/test";

/** The `Cookie` header the browser would send for the session (split parts included). */
async function sessionCookieHeader(context: BrowserContext) {
  const cookies = (await context.cookies()).filter((c) => c.name.startsWith("wos-session"));
  expect(cookies.length).toBeGreaterThan(0);
  return cookies.map((c) => `${c.name}=${c.value}`).join("; ");
}

async function get(url: string, cookie?: string) {
  const response = await fetch(url, { redirect: "manual", headers: cookie ? { cookie } : {} });
  return { status: response.status, setCookie: response.headers.getSetCookie(), body: await response.text() };
}

test("P2 smoke: 600 page loads, open and protected, all served (the protected ones signed in)", async ({ page, context, baseURL }) => {
  await signIn(page, adaInAcme, "/about");
  const cookie = await sessionCookieHeader(context);
  const results = [];
  for (let batch = 0; batch < 10; batch++) {
    results.push(
      ...(await Promise.all(
        Array.from({ length: 60 }, (_, i) =>
          i % 2 === 0 ? get(`${baseURL}/about`) : get(`${baseURL}/protected/about`, cookie),
        ),
      )),
    );
  }
  expect(results).toHaveLength(600);
  expect(results.filter((r) => r.status === 200)).toHaveLength(600);
  expect(results.filter((r) => r.body.includes("About this notebook"))).toHaveLength(600);
  // The protected half rendered for Ada, with no refresh or cookie change.
  const protectedOnes = results.filter((_, i) => i % 2 === 1);
  expect(protectedOnes.filter((r) => r.body.includes("Ada"))).toHaveLength(300);
  expect(protectedOnes.filter((r) => r.setCookie.length > 0)).toHaveLength(0);
});

test("P3 smoke: 200 concurrent page loads with one expired session, exactly 1 refresh", async ({ page, context, request, baseURL }) => {
  await setTokenTtl(request, 0);
  try {
    await signIn(page, adaInAcme, "/about");
  } finally {
    await setTokenTtl(request, 300);
  }
  const cookie = await sessionCookieHeader(context);
  await emulator(request, "/__emulator/counters/reset", {});
  const results = await Promise.all(
    Array.from({ length: 200 }, () => get(`${baseURL}/protected/about`, cookie)),
  );
  const counters = await emulator(request, "/__emulator/counters");
  expect(counters["authenticate.refresh_token"]).toBe(1);
  expect(results.filter((r) => r.status === 200)).toHaveLength(200);
  const newCookies = new Set(
    results.map((r) => r.setCookie.filter((c) => c.startsWith("wos-session=")).join()),
  );
  expect(newCookies.size).toBe(1);
  expect([...newCookies][0]).toContain("wos-session=Fe26.2*");
});

test("P5: a big session (200 permissions, 50 flags) is split into cookies and survives a reload", async ({ page, context }) => {
  await signIn(page, (p) => pickUser(p, /Mary Somerville/), "/dashboard");
  const parts = (await context.cookies()).filter((c) => /^wos-session\.\d+$/.test(c.name));
  expect(parts.length).toBeGreaterThanOrEqual(2);
  expect((await context.cookies()).some((c) => c.name === "wos-session")).toBe(false);
  await hydrated(page);
  await expect(page.locator("main")).toContainText("reports-199:read");
  await page.reload();
  await hydrated(page);
  await expect(page.locator("main")).toContainText("reports-199:read");
  await expect(page.locator("header.nav")).toContainText("mary@example.com");
  await screenshot(page, "big-session-dashboard");
});
