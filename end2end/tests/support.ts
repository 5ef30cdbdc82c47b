// Shared helpers for the end-to-end tests: a `test` whose every page fails the test on an
// uncaught page error, sign-in through the emulator's hosted page, the emulator's
// /__emulator/ controls, and screenshots saved as artifacts.
import { test as base, expect, type Page, type APIRequestContext } from "@playwright/test";
import * as fs from "node:fs";
import * as path from "node:path";

export { expect };

/** Every page opened in a test records its uncaught errors; the test fails on any. */
export const test = base.extend<{ pageErrors: string[] }>({
  pageErrors: [
    async ({ context }, use) => {
      const errors: string[] = [];
      // Console errors explain a page error (a wasm panic prints its message there first).
      const console: string[] = [];
      const watch = (p: Page) => {
        p.on("pageerror", (e) => errors.push(`${p.url()}: ${e.message}`));
        p.on("console", (m) => {
          if (m.type() === "error") console.push(m.text());
        });
      };
      context.pages().forEach(watch);
      context.on("page", watch);
      await use(errors);
      expect(errors, `uncaught page errors; console errors:\n${console.join("\n")}`).toEqual([]);
    },
    { auto: true },
  ],
});

/** The emulator the demo started (scripts/test.sh passes its port to both). */
export const emulatorUrl = `http://127.0.0.1:${process.env.AUTHKIT_DEMO_EMULATOR_PORT ?? "0"}`;

export async function emulator(request: APIRequestContext, path: string, body?: unknown) {
  const response = body === undefined
    ? await request.get(`${emulatorUrl}${path}`)
    : await request.post(`${emulatorUrl}${path}`, { data: body });
  expect(response.ok(), `${path}: ${response.status()}`).toBe(true);
  return response.json().catch(() => ({}));
}

export async function setTokenTtl(request: APIRequestContext, seconds: number) {
  await emulator(request, "/__emulator/token_ttl", { seconds });
}

/** On the emulator's hosted sign-in page: pick a seeded user, then (if asked) an organization. */
export async function pickUser(page: Page, name: RegExp, organization?: RegExp) {
  await expect(page.locator("h1")).toHaveText("Sign in");
  await page.getByRole("button", { name }).click();
  if (organization) {
    await expect(page.locator("h1")).toHaveText("Choose an organization");
    await page.getByRole("button", { name: organization }).click();
  }
}

export const adaInAcme = (page: Page) => pickUser(page, /Ada Lovelace/, /Acme/);
export const adaInGlobex = (page: Page) => pickUser(page, /Ada Lovelace/, /Globex/);

/** Signs in from the start route, landing on `returnTo`. */
export async function signIn(page: Page, pick: (page: Page) => Promise<void>, returnTo = "/") {
  await page.goto(`/auth/sign-in?return_to=${encodeURIComponent(returnTo)}`);
  await pick(page);
  await expect(page).toHaveURL(new RegExp(`${returnTo.replace(/[?]/g, "\\?")}$`));
}

/** The wasm bundle has hydrated the page (an effect flips this attribute). */
export async function hydrated(page: Page) {
  await expect(page.locator("header.nav")).toHaveAttribute("data-hydrated", "true");
}

/** Saves a screenshot of the page as a test artifact (E2E_ARTIFACTS, else test-results). */
export async function screenshot(page: Page, name: string) {
  const dir = process.env.E2E_ARTIFACTS ?? path.join(__dirname, "..", "test-results", "screens");
  fs.mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: path.join(dir, `${name}.png`), fullPage: true });
}
