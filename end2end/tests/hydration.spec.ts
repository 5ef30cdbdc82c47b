import { test, expect } from "@playwright/test";

test("the home page is server-rendered, then hydrated", async ({ page }) => {
  // Server-rendered HTML: the text is there before any script runs.
  const response = await page.request.get("/");
  expect(response.status()).toBe(200);
  const html = await response.text();
  expect(html).toContain("<h1>Welcome</h1>");
  expect(html).toContain('data-hydrated="false"');

  await page.goto("/");
  await expect(page.locator("h1")).toHaveText("Welcome");
  // The effect that flips this attribute only runs in the browser once the wasm is live.
  await expect(page.locator("header.nav")).toHaveAttribute("data-hydrated", "true");
  await page.locator("#counter").click();
  await page.locator("#counter").click();
  await expect(page.locator("#count")).toHaveText("2");
});
