// The start-axum template with AuthKit, driven as a user would: signed in through the
// built-in WorkOS (`workos-emulator`, whose printed WORKOS_* settings the app runs with).
import { test, expect, type Page } from "@playwright/test";
import * as fs from "node:fs";
import * as path from "node:path";

async function screenshot(page: Page, name: string) {
  const dir = process.env.E2E_ARTIFACTS ?? path.join(__dirname, "..", "test-results", "screens");
  fs.mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: path.join(dir, `${name}.png`), fullPage: true });
}

/** Fails the test on any uncaught error in the page (a wasm panic, a hydration error). */
function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  return errors;
}

test("homepage has title and heading text, signed out", async ({ page }) => {
  const errors = watchErrors(page);
  await page.goto("/");
  await expect(page).toHaveTitle("Welcome to Leptos");
  await expect(page.locator("h1")).toHaveText("Welcome to Leptos!");
  await expect(page.getByText("Please sign in to continue")).toBeVisible();
  await expect(page.locator("nav").getByRole("link", { name: "Sign in" })).toBeVisible();
  // Hydrated: the template's counter works.
  await expect(async () => {
    await page.getByRole("button", { name: /Click Me/ }).click();
    await expect(page.getByRole("button", { name: /Click Me: [1-9]/ })).toBeVisible({ timeout: 500 });
  }).toPass();
  expect(errors).toEqual([]);
});

test("sign in through the built-in WorkOS: the guarded page, its flagged section, and sign out", async ({ page }) => {
  const errors = watchErrors(page);
  await page.goto("/dashboard");
  // <GuardedRoute>: a real 302 to sign in, on WorkOS's (the emulator's) hosted page.
  await expect(page.locator("h1")).toHaveText("Sign in");
  await page.getByRole("button", { name: /Ada Lovelace/ }).click();
  await expect(page.locator("h1")).toHaveText("Choose an organization");
  await page.getByRole("button", { name: /Acme/ }).click();

  await expect(page).toHaveURL(/\/dashboard$/);
  await expect(page.locator("h1")).toHaveText("Dashboard");
  await expect(page.locator("h2")).toHaveText("New Feature Available!"); // on in Acme
  await expect(page.locator("nav")).toContainText("ada@example.com");
  await screenshot(page, "example-dashboard");

  await page.getByRole("link", { name: "Home" }).click();
  await expect(page.getByText("Welcome back, Ada!")).toBeVisible();

  // A page the app never lists anywhere (the fallback's 404) shows the signed-in nav.
  await page.goto("/nowhere/at/all");
  await expect(page.getByText("Page not found.")).toBeVisible();
  await expect(page.locator("nav")).toContainText("ada@example.com");

  // The site's own files keep their caching headers for a signed-in browser.
  for (const file of ["/pkg/start-axum.wasm", "/pkg/start-axum.js", "/favicon.ico"]) {
    const response = await page.request.get(file);
    expect(response.status(), file).toBe(200);
    expect(response.headers()["cache-control"] ?? "", file).not.toContain("private");
    expect(response.headers()["vary"] ?? "", file).not.toMatch(/cookie/i);
    expect(response.headers()["set-cookie"], file).toBeUndefined();
  }

  await page.goto("/");
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page.getByText("Please sign in to continue")).toBeVisible();
  await expect(page.locator("nav").getByRole("link", { name: "Sign in" })).toBeVisible();
  expect(errors).toEqual([]);
});
