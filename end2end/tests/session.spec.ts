// Signing in and out, guarded routes, and the session over time.
import { test, expect, adaInAcme, signIn, hydrated, screenshot, setTokenTtl, emulator, emulatorUrl } from "./support";
import type { APIRequestContext } from "@playwright/test";

const SSR_MODES = ["/protected", "/protected/in-order", "/protected/async", "/protected/partially-blocked"];

test("a signed-out document request to a protected page is a 302 with none of its content, in every SsrMode", async ({ request }) => {
  for (const path of SSR_MODES) {
    const response = await request.get(`${path}?from=e2e&x=1`, { maxRedirects: 0, headers: { accept: "text/html" } });
    expect(response.status(), path).toBe(302);
    expect(response.headers()["location"], path).toBe(
      `/auth/sign-in?return_to=${encodeURIComponent(`${path}?from=e2e&x=1`)}`,
    );
    expect(response.headers()["cache-control"], path).toContain("no-store");
    const body = await response.text();
    expect(body, path).not.toContain("Protected content");
    expect(body, path).not.toContain("Hello, ");
  }
});

test("typing a protected URL signs in and comes back to the same path and query", async ({ page }) => {
  await page.goto("/protected/in-order?from=e2e&x=1");
  await adaInAcme(page);
  await expect(page).toHaveURL(/\/protected\/in-order\?from=e2e&x=1$/);
  await expect(page.locator("h1")).toHaveText("Protected content");
  await screenshot(page, "protected");
});

test("a client-side link to a protected page goes to sign-in and back", async ({ page }) => {
  await page.goto("/");
  await hydrated(page);
  await page.getByRole("link", { name: "Protected" }).click();
  await expect(page.locator("h1")).toHaveText("Sign in");
  await adaInAcme(page);
  await expect(page).toHaveURL(/\/protected$/);
  await expect(page.locator("h1")).toHaveText("Protected content");
});

test("sign-in and sign-out work with JavaScript disabled", async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto("/");
  await page.locator("#sign-in").click();
  await adaInAcme(page);
  await expect(page.locator("h1")).toHaveText("Welcome back, Ada!");
  // A protected page rendered whole on the server (SsrMode::Async needs no script to show
  // its data; out-of-order streaming swaps data in with a script).
  await page.goto("/protected/async");
  await expect(page.locator("h1")).toHaveText("Protected content");
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page.locator("h1")).toHaveText("Welcome");
  expect((await context.cookies()).some((c) => c.name === "wos-session")).toBe(false);
  await context.close();
});

/** How many of Ada's WorkOS sessions are active at the emulator. */
async function adaSessions(request: APIRequestContext): Promise<number> {
  const listed = await emulator(request, "/__emulator/sessions");
  return listed.sessions.filter((s: { user_email: string }) => s.user_email === "ada@example.com").length;
}

test("sign out ends the session: back shows nothing protected, the old refresh token is refused", async ({ page, context, request }) => {
  // Short-lived access tokens, so the old cookie can only live on by refreshing.
  await setTokenTtl(request, 2);
  try {
    await signIn(page, adaInAcme, "/protected");
    await expect(page.locator("h1")).toHaveText("Protected content");
    const oldCookies = await context.cookies();
    const activeBefore = await adaSessions(request);
    await hydrated(page);
    await page.getByRole("button", { name: "Sign out" }).click();
    await expect(page.locator("h1")).toHaveText("Welcome");
    expect((await context.cookies()).some((c) => c.name === "wos-session")).toBe(false);

    await page.goBack();
    await expect(page.getByText("Protected content")).toHaveCount(0);
    await expect(page.getByText("Hello, Ada!")).toHaveCount(0);

    // Put the old cookie back once its access token has expired: WorkOS's session.revoked
    // webhook already told the app the session ended, so it is a sign-in again without
    // even asking WorkOS for a refresh.
    await emulator(request, "/__emulator/counters/reset", {});
    await context.addCookies(oldCookies.filter((c) => c.name === "wos-session"));
    await page.waitForTimeout(2_500);
    await page.goto("/protected");
    await expect(page.locator("h1")).toHaveText("Sign in");
    const counters = await emulator(request, "/__emulator/counters");
    expect(counters["authenticate.refresh_token"] ?? 0).toBe(0);
    // And at WorkOS the session is over: signing out ended one of Ada's active sessions.
    expect(await adaSessions(request)).toBe(activeBefore - 1);
  } finally {
    await setTokenTtl(request, 300);
  }
});

test("with a short token lifetime the app keeps working past expiry", async ({ page, request }) => {
  await setTokenTtl(request, 3);
  try {
    await signIn(page, adaInAcme, "/data");
    await hydrated(page);
    await expect(page.locator("#token-state")).toHaveText("Access token ready");
    await page.waitForTimeout(4_500);
    // The browser's token was fetched again before it expired.
    await page.locator("#call-with-token").click();
    await expect(page.locator("#browser-response")).toContainText("200");
    // Client-side navigation: the server function call refreshes the session.
    await page.getByRole("link", { name: "Profile" }).click();
    await expect(page.locator("h1")).toHaveText("Welcome, Ada");
    await page.waitForTimeout(3_500);
    await page.goto("/protected");
    await expect(page.locator("h1")).toHaveText("Protected content");
    await page.waitForTimeout(3_500);
    await page.reload();
    await expect(page.locator("h1")).toHaveText("Protected content");
  } finally {
    await setTokenTtl(request, 300);
  }
});

test("a session ended in another tab is noticed when the tab regains focus", async ({ context, page }) => {
  await signIn(page, adaInAcme, "/protected");
  await hydrated(page);
  const other = await context.newPage();
  await other.goto("/");
  await hydrated(other);
  await other.getByRole("button", { name: "Sign out" }).click();
  await expect(other.locator("h1")).toHaveText("Welcome");

  // Back to the first tab: it still shows the page until it regains focus.
  await page.bringToFront();
  await page.evaluate(() => window.dispatchEvent(new Event("focus")));
  await expect(page.locator("h1")).toHaveText("Sign in");
  await expect(page).toHaveURL(/\/user_management\/authorize|sign-in|authorize/);
});

test("a server function that needs a session sends a signed-out browser to sign in, even with the app's own error type", async ({ page, context }) => {
  await signIn(page, adaInAcme, "/dashboard");
  await hydrated(page);
  await page.locator(".invite input").fill("grace@example.com");
  await page.locator("#invite").click();
  await expect(page.locator("#invite-result")).toContainText("Invitation sent to grace@example.com");

  // The session ends behind the page's back (cookies cleared): the next call answers
  // SignInRequired inside the app's DemoError, and the browser goes to sign in and back.
  await context.clearCookies();
  await page.locator(".invite input").fill("alan@example.com");
  await page.locator("#invite").click();
  await expect(page.locator("h1")).toHaveText("Sign in");
  await adaInAcme(page);
  await expect(page).toHaveURL(/\/dashboard$/);
});

test("a session WorkOS ended shows signed out at the next answer, while the tab keeps focus", async ({ page, request }) => {
  await setTokenTtl(request, 3);
  try {
    await signIn(page, adaInAcme, "/");
    await hydrated(page);
    await expect(page.locator("#signed-in-as")).toHaveText("ada@example.com");

    // Revoked through WorkOS's Sessions API, as the dashboard would; the tab keeps focus
    // (no focus, visibility or online event reaches it from here on).
    const listed = await emulator(request, "/__emulator/sessions");
    const ada = listed.sessions.filter((s: { user_email: string }) => s.user_email === "ada@example.com");
    expect(ada.length).toBeGreaterThan(0);
    for (const s of ada) {
      const revoked = await request.post(`${emulatorUrl}/user_management/sessions/revoke`, {
        headers: { authorization: "Bearer sk_test_emulator_demo" },
        data: { session_id: s.id },
      });
      expect(revoked.ok()).toBe(true);
    }
    await page.waitForTimeout(3_500); // the access token expires: the next request refreshes

    // A client-side navigation: the page's server function finds the session ended (the
    // refresh is refused) and says "Not signed in" — and the header follows at once.
    await page.getByRole("link", { name: "Profile" }).click();
    await expect(page.locator("main, body").getByText("Not signed in")).toBeVisible();
    await expect(page.locator("#signed-in-as")).toHaveCount(0, { timeout: 2_000 });
    await expect(page.locator("header.nav").getByRole("link", { name: "Sign in" })).toBeVisible();
    await expect(page.locator("header.nav").getByRole("button", { name: "Sign out" })).toHaveCount(0);
    await screenshot(page, "session-ended-while-focused");
  } finally {
    await setTokenTtl(request, 300);
  }
});

test("sign out everywhere: the account page lists both browsers, and the other one is signed out at its next request", async ({ browser, page }) => {
  // Two browsers (separate cookie jars), both Ada in Acme.
  const other = await browser.newContext();
  const otherPage = await other.newPage();
  try {
    await signIn(otherPage, adaInAcme, "/protected");
    await expect(otherPage.locator("#signed-in-as")).toHaveText("ada@example.com");
    await signIn(page, adaInAcme, "/account");
    await hydrated(page);

    // "Your sessions", as WorkOS lists them: this browser marked, the other one listed too.
    const rows = page.locator("table.authkit-sessions tbody tr");
    await expect(rows.first()).toBeVisible();
    expect(await rows.count()).toBeGreaterThanOrEqual(2);
    await expect(page.locator("table.authkit-sessions tr.current")).toHaveCount(1);
    await expect(page.locator("table.authkit-sessions tr.current")).toContainText("this browser");
    await screenshot(page, "account-sessions");

    await page.getByRole("button", { name: "Sign out everywhere" }).click();
    await expect(page).toHaveURL(/\/$/);
    await expect(page.locator("#signed-in-as")).toHaveCount(0);
    await expect(page.locator("header.nav").getByRole("link", { name: "Sign in" })).toBeVisible();

    // The other browser's tokens are still unexpired; its next request is signed out all the
    // same (WorkOS's session.revoked webhook reached the app), and the protected page sends
    // it to sign in.
    const response = await otherPage.request.get("/protected", { maxRedirects: 0 });
    expect(response.status()).toBe(302);
    expect(response.headers()["location"]).toContain("/auth/sign-in");
    await otherPage.goto("/");
    await expect(otherPage.locator("#signed-in-as")).toHaveCount(0);
    await expect(otherPage.locator("header.nav").getByRole("link", { name: "Sign in" })).toBeVisible();
  } finally {
    await other.close();
  }
});

test("a user in several organizations picks one on the crate's page at the callback, and lands signed in there", async ({ page }) => {
  await page.goto(`/auth/sign-in?return_to=${encodeURIComponent("/profile")}`);
  await expect(page.locator("h1")).toHaveText("Sign in");
  // Emmy's seed makes WorkOS (the emulator) answer the code exchange with
  // organization_selection_required: the page below is the crate's, not the emulator's.
  await page.getByRole("button", { name: /Emmy Noether/ }).click();
  await expect(page).toHaveURL(/\/callback\?/);
  await expect(page.locator("h1")).toHaveText("Choose an organization");
  const globex = page.getByRole("button", { name: "Globex" });
  await expect(page.getByRole("button", { name: "Acme" })).toBeVisible();
  await expect(globex).toBeVisible();
  // Readable under the app's own button style: its text colour is not its background's.
  const [color, background] = await globex.evaluate((el) => {
    const style = getComputedStyle(el);
    return [style.color, style.backgroundColor];
  });
  expect(color).not.toBe(background);
  await screenshot(page, "organization-picker");

  await globex.click();
  await expect(page).toHaveURL(/\/profile$/);
  await hydrated(page);
  await expect(page.locator("header.nav")).toContainText("emmy@example.com");
  await expect(page.locator(".authkit-organization-switcher select option:checked")).toHaveText("Globex");
});
