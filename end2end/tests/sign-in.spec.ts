import { test, expect, type Page } from "@playwright/test";

/** On the emulator's hosted sign-in page: pick Ada, then the Acme organization. */
async function signInAsAdaInAcme(page: Page) {
  await expect(page.locator("h1")).toHaveText("Sign in");
  await page.getByRole("button", { name: /Ada Lovelace/ }).click();
  await expect(page.locator("h1")).toHaveText("Choose an organization");
  await page.getByRole("button", { name: /Acme/ }).click();
}

async function hydrated(page: Page) {
  await expect(page.locator("header.nav")).toHaveAttribute("data-hydrated", "true");
}

test("sign in through the emulator, use every page, sign out", async ({ page, context }) => {
  await page.goto("/");
  await expect(page.locator("h1")).toHaveText("Welcome");
  await page.locator("#sign-in").click();
  await signInAsAdaInAcme(page);

  // Back on the app, signed in.
  await expect(page.locator("h1")).toHaveText("Welcome back, Ada!");
  await expect(page.getByText("You're signed in as ada@example.com")).toBeVisible();
  const cookies = await context.cookies();
  const session = cookies.find((c) => c.name === "wos-session");
  expect(session?.httpOnly).toBe(true);
  expect(session?.sameSite).toBe("Lax");
  expect(cookies.some((c) => c.name.startsWith("wos-auth-verifier"))).toBe(false);

  await page.goto("/profile");
  await expect(page.locator("h1")).toHaveText("Welcome, Ada");
  await expect(page.getByText("Email: ada@example.com")).toBeVisible();

  await page.goto("/dashboard");
  await expect(page.locator("#organization")).toContainText("Organization: org_");
  await expect(page.locator("#role")).toHaveText("Role: admin");
  await expect(page.locator("#permissions")).toContainText("posts:read");

  await page.goto("/features");
  await expect(page.getByRole("heading", { name: "New Feature Available!" })).toBeVisible();

  await page.goto("/protected");
  await expect(page.locator("h1")).toHaveText("Protected content");
  await expect(page.getByText("Hello, Ada!")).toBeVisible();

  await page.goto("/data");
  await expect(page.locator("#api-response")).toContainText("Hello from the demo API");

  // Sign out (a plain form posting to the sign_out server function).
  await hydrated(page);
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page.locator("h1")).toHaveText("Welcome");
  expect((await context.cookies()).some((c) => c.name === "wos-session")).toBe(false);
  await page.goto("/profile");
  await expect(page.getByText("Not signed in")).toBeVisible();
});

test("a signed-out visit to a protected page signs in and comes back", async ({ page, request }) => {
  // The server answers with a real redirect before rendering anything.
  const direct = await request.get("/protected?from=e2e", { maxRedirects: 0, headers: { accept: "text/html" } });
  expect(direct.status()).toBe(302);
  expect(direct.headers()["location"]).toBe("/auth/sign-in?return_to=%2Fprotected%3Ffrom%3De2e");

  await page.goto("/protected?from=e2e");
  await signInAsAdaInAcme(page);
  await expect(page).toHaveURL(/\/protected\?from=e2e$/);
  await expect(page.locator("h1")).toHaveText("Protected content");
});

test("a client-side navigation to a protected page goes to sign-in", async ({ page }) => {
  await page.goto("/");
  await hydrated(page);
  await page.getByRole("link", { name: "Protected" }).click();
  await expect(page.locator("h1")).toHaveText("Sign in");
  await signInAsAdaInAcme(page);
  await expect(page.locator("h1")).toHaveText("Protected content");
});

test("feature flags follow the organization", async ({ page }) => {
  await page.goto("/auth/sign-in");
  await expect(page.locator("h1")).toHaveText("Sign in");
  await page.getByRole("button", { name: /Ada Lovelace/ }).click();
  await page.getByRole("button", { name: /Globex/ }).click();
  await page.goto("/features");
  await expect(page.locator("h1")).toHaveText("Features");
  await expect(page.getByText("New Feature Available!")).toHaveCount(0);
  await page.goto("/dashboard");
  await expect(page.locator("#role")).toHaveText("Role: member");
});
