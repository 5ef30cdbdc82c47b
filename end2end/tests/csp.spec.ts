// A strict Content-Security-Policy (#26 item 5): every page and flow of the demo renders and
// hydrates under `script-src 'self' 'nonce-…' 'wasm-unsafe-eval'; style-src 'self'` with no
// 'unsafe-inline', and the browser reports no violation anywhere.
import type { BrowserContext, Page, Response } from "@playwright/test";
import { test, expect, adaInAcme, hydrated, screenshot } from "./support";

/** Every CSP violation any page of the context reports: the DOM event and the console line. */
async function watchViolations(context: BrowserContext): Promise<string[]> {
  const violations: string[] = [];
  await context.exposeBinding("__reportCspViolation", ({ page }, text: string) => {
    violations.push(`${page.url()}: ${text}`);
  });
  await context.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) => {
      const report = (window as unknown as { __reportCspViolation: (t: string) => void }).__reportCspViolation;
      report(`${e.violatedDirective} blocked ${e.blockedURI || "inline"} (${e.sourceFile}:${e.lineNumber}) ${e.sample}`);
    });
  });
  const watch = (p: Page) =>
    p.on("console", (m) => {
      if (/Refused to|Content.Security.Policy/i.test(m.text())) violations.push(`${p.url()}: console: ${m.text()}`);
    });
  context.pages().forEach(watch);
  context.on("page", watch);
  return violations;
}

/** The app's answer carries the strict policy with a nonce, and the page's scripts carry it. */
async function expectStrictPolicy(page: Page, response: Response | null) {
  expect(response, "a navigation response").not.toBeNull();
  const policy = response!.headers()["content-security-policy"] ?? "";
  expect(policy).toMatch(/script-src 'self' 'nonce-[A-Za-z0-9_-]{22}' 'wasm-unsafe-eval'/);
  expect(policy).toContain("style-src 'self'");
  expect(policy).not.toContain("unsafe-inline");
  const nonce = /'nonce-([^']+)'/.exec(policy)![1];
  const html = await response!.text();
  // Every inline script is one the policy allows; no inline style, no javascript: URL.
  for (const tag of html.match(/<script\b[^>]*>/g) ?? []) {
    if (!/\bsrc=/.test(tag)) expect(tag, "an inline script carries the nonce").toContain(`nonce="${nonce}"`);
  }
  expect(html).not.toMatch(/<style\b/);
  expect(html).not.toMatch(/\sstyle=/);
  expect(html).not.toMatch(/javascript:/i);
}

test("every page and flow works under a strict CSP with zero violations", async ({ page, context }) => {
  const violations = await watchViolations(context);

  // Signed out: home (hydrated, an interactive page), a page that is not found.
  let response = await page.goto("/");
  await expectStrictPolicy(page, response);
  await expect(page.locator("h1")).toHaveText("Welcome");
  await hydrated(page);
  response = await page.goto("/no-such-page");
  expect(response?.status()).toBe(404);
  await expectStrictPolicy(page, response);
  await hydrated(page);

  // The callback's own error page: styled by the crate's stylesheet, no inline style.
  response = await page.goto("/callback");
  expect(response?.status()).toBe(400);
  await expectStrictPolicy(page, response);
  await expect(page.locator("h1")).toHaveText("Couldn't sign you in");
  await expect(page.locator("body")).toHaveCSS("max-width", "512px");
  await screenshot(page, "csp-callback-error");

  // The sign-in start at another host name moves to the redirect URI's, then the emulator
  // (its own origin and no policy), then the callback and back, signed in.
  const site = new URL(page.url());
  await page.goto(`http://localhost:${site.port}/auth/sign-in?return_to=%2Fdashboard`);
  await adaInAcme(page);
  await expect(page).toHaveURL(new RegExp(`^http://${site.host}/dashboard$`));
  await expect(page.locator("#role")).toHaveText("Role: admin");
  await hydrated(page);

  // Every page signed in, each with its policy, each hydrated.
  for (const path of ["/", "/profile", "/dashboard", "/protected", "/features", "/team", "/about", "/protected/about", "/account"]) {
    response = await page.goto(path);
    await expectStrictPolicy(page, response);
    await hydrated(page);
  }
  await expect(page.locator(".authkit-sessions")).toBeVisible();

  // Hydration works: the data page's buttons call the API from wasm.
  response = await page.goto("/data");
  await expectStrictPolicy(page, response);
  await hydrated(page);
  await expect(page.locator("#token-state")).toHaveText("Access token ready");
  await page.locator("#call-with-token").click();
  await expect(page.locator("#browser-response")).toContainText("200");
  await page.locator("#call-without-token").click();
  await expect(page.locator("#browser-response")).toContainText("401");
  // A client-side navigation and a server function under the policy.
  await page.getByRole("link", { name: "Profile" }).click();
  await expect(page.locator("h1")).toHaveText("Welcome, Ada");
  await screenshot(page, "csp-profile");

  // The organization switcher (a server function, then a re-render).
  await page.goto("/features");
  await hydrated(page);
  await page.locator(".authkit-organization-switcher select").selectOption({ label: "Globex" });
  await page.locator(".authkit-organization-switcher button").click();
  await expect(page.locator("#no-new-feature")).toBeVisible();
  await page.locator(".authkit-organization-switcher select").selectOption({ label: "Acme" });
  await page.locator(".authkit-organization-switcher button").click();
  await expect(page.getByRole("heading", { name: "New Feature Available!" })).toBeVisible();

  // Sign out through WorkOS's logout and back.
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page.locator("h1")).toHaveText("Welcome");
  await hydrated(page);

  // Impersonation: the banner, then Stop.
  await page.goto("/auth/sign-in");
  await page.locator("#admin_id").selectOption({ label: "grace@example.com" });
  await page.locator("#target").selectOption({ label: "ada@example.com" });
  await page.locator("#reason").fill("Checking the CSP");
  await page.getByRole("button", { name: "Impersonate" }).click();
  if ((await page.locator("h1").textContent()) === "Choose an organization") {
    await page.getByRole("button", { name: /Acme/ }).click();
  }
  const banner = page.locator(".authkit-impersonation");
  await expect(banner).toContainText("You are impersonating ada@example.com");
  await hydrated(page);
  await screenshot(page, "csp-impersonation");
  await banner.getByRole("button", { name: "Stop" }).click();
  await expect(page.locator("h1")).toHaveText("Welcome");

  expect(violations, "CSP violations").toEqual([]);
});

test("the policy is enforced: an injected inline script without the nonce is refused and reported", async ({ page, context }) => {
  const violations = await watchViolations(context);
  await page.goto("/");
  await hydrated(page);
  await page.evaluate(() => {
    const s = document.createElement("script");
    s.textContent = "window.__injected = true";
    document.body.appendChild(s);
  });
  await expect.poll(() => violations.length).toBeGreaterThan(0);
  expect(await page.evaluate(() => (window as unknown as { __injected?: boolean }).__injected)).toBeUndefined();
  expect(violations.join("\n")).toContain("script-src");
});
