// The demo's pages, signed in and out: what each withAuth example shows.
import { test, expect, adaInAcme, adaInGlobex, signIn, hydrated, screenshot } from "./support";

test("the home page is server-rendered, then hydrated", async ({ page, request }) => {
  const response = await request.get("/");
  expect(response.status()).toBe(200);
  const html = await response.text();
  expect(html).toContain("<h1>Welcome</h1>");
  expect(html).toContain('data-hydrated="false"');
  await page.goto("/");
  await expect(page.locator("h1")).toHaveText("Welcome");
  await hydrated(page);
  await screenshot(page, "home-signed-out");
});

test("signed in: home, profile, dashboard, protected, data and features", async ({ page, context }) => {
  await page.goto("/");
  await page.locator("#sign-in").click();
  await adaInAcme(page);
  await expect(page.locator("h1")).toHaveText("Welcome back, Ada!");
  await expect(page.getByText("You're signed in as ada@example.com")).toBeVisible();
  await expect(page.locator("#signed-in-as")).toHaveText("ada@example.com");
  const cookies = await context.cookies();
  const session = cookies.find((c) => c.name === "wos-session");
  expect(session?.httpOnly).toBe(true);
  expect(session?.sameSite).toBe("Lax");
  expect(cookies.some((c) => c.name.startsWith("wos-auth-verifier"))).toBe(false);
  await hydrated(page);
  await screenshot(page, "home-signed-in");

  await page.goto("/profile");
  await expect(page.locator("h1")).toHaveText("Welcome, Ada");
  await expect(page.getByText("Email: ada@example.com")).toBeVisible();

  await page.goto("/dashboard");
  await expect(page.locator("#organization")).toContainText("Organization: org_");
  await expect(page.locator("#role")).toHaveText("Role: admin");
  await expect(page.locator("#permissions")).toHaveText(
    "Permissions: posts:read, posts:write, members:manage, billing:manage",
  );
  await expect(page.locator("#members")).toBeVisible();
  await hydrated(page);
  await screenshot(page, "dashboard");

  await page.goto("/features");
  await expect(page.getByRole("heading", { name: "New Feature Available!" })).toBeVisible();
  await screenshot(page, "features");

  await page.goto("/protected");
  await expect(page.locator("h1")).toHaveText("Protected content");
  await expect(page.getByText("Hello, Ada!")).toBeVisible();

  await page.goto("/team");
  await expect(page.locator("h1")).toHaveText("Team");
});

test("the access token: the server's API call, and the browser's with and without it", async ({ page, request }) => {
  await signIn(page, adaInAcme, "/data");
  await expect(page.locator("#api-response")).toContainText("Hello from the demo API");
  // The token is never in the HTML; the browser fetches it after hydration.
  const html = await page.evaluate(() => document.documentElement.outerHTML);
  await hydrated(page);
  await expect(page.locator("#token-state")).toHaveText("Access token ready");
  const token = await page.evaluate(async () => {
    const r = await fetch("/api/authkit/access-token", { method: "POST", headers: { accept: "application/json" } });
    return (await r.json()).token as string;
  });
  expect(token.split(".")).toHaveLength(3);
  expect((await request.get("/data")).status()).toBe(200);
  expect(html).not.toContain(token);

  await page.locator("#call-with-token").click();
  await expect(page.locator("#browser-response")).toContainText("200");
  await expect(page.locator("#browser-response")).toContainText("Hello from the demo API");
  await page.locator("#call-without-token").click();
  await expect(page.locator("#browser-response")).toContainText("401");
  await screenshot(page, "data");

  const bare = await request.get("/demo-api/data");
  expect(bare.status()).toBe(401);
});

test("a permission-gated view shows its fallback to a user without the permission", async ({ page }) => {
  await signIn(page, adaInGlobex, "/dashboard");
  await expect(page.locator("#role")).toHaveText("Role: member");
  await expect(page.locator("#members-fallback")).toBeVisible();
  await expect(page.locator("#members")).toHaveCount(0);

  const response = await page.goto("/team");
  expect(response?.status()).toBe(403);
  await expect(page.locator("#no-access")).toContainText("members:manage");
  await expect(page.getByRole("heading", { name: "Team" })).toHaveCount(0);
  await screenshot(page, "team-no-access");
});

test("switching organization flips the feature flag without a reload", async ({ page }) => {
  await signIn(page, adaInAcme, "/features");
  await hydrated(page);
  await expect(page.getByRole("heading", { name: "New Feature Available!" })).toBeVisible();
  await page.evaluate(() => ((window as unknown as { marker: number }).marker = 42));

  await page.locator(".authkit-organization-switcher select").selectOption({ label: "Globex" });
  await page.locator(".authkit-organization-switcher button").click();
  await expect(page.locator("#no-new-feature")).toBeVisible();
  await expect(page.getByRole("heading", { name: "New Feature Available!" })).toHaveCount(0);
  expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(42);

  await page.locator(".authkit-organization-switcher select").selectOption({ label: "Acme" });
  await page.locator(".authkit-organization-switcher button").click();
  await expect(page.getByRole("heading", { name: "New Feature Available!" })).toBeVisible();
  expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(42);

  // An organization that wants SSO first: the browser goes through AuthKit into it.
  await page.locator(".authkit-organization-switcher select").selectOption({ label: "Umbrella" });
  await page.locator(".authkit-organization-switcher button").click();
  await expect(page.locator("h1")).toHaveText("Sign in");
  await expect(page.locator(".sub")).toContainText("Umbrella");
});

test("impersonation shows the banner, and Stop signs out", async ({ page }) => {
  await page.goto("/auth/sign-in");
  await expect(page.locator("h1")).toHaveText("Sign in");
  await page.locator("#admin_id").selectOption({ label: "grace@example.com" });
  await page.locator("#target").selectOption({ label: "ada@example.com" });
  await page.locator("#reason").fill("Investigating a support ticket");
  await page.getByRole("button", { name: "Impersonate" }).click();
  if ((await page.locator("h1").textContent()) === "Choose an organization") {
    await page.getByRole("button", { name: /Acme/ }).click();
  }
  const banner = page.locator(".authkit-impersonation");
  await expect(banner).toContainText("You are impersonating ada@example.com");
  await expect(banner).toContainText("within Acme");
  await hydrated(page);
  await screenshot(page, "impersonation");
  await banner.getByRole("button", { name: "Stop" }).click();
  await expect(page.locator("h1")).toHaveText("Welcome");
  await expect(page.locator(".authkit-impersonation")).toHaveCount(0);
});
