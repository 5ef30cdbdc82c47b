import { defineConfig } from "@playwright/test";

// The app is started by `scripts/example-e2e.sh` (or `cargo leptos end-to-end`) on
// LEPTOS_SITE_ADDR, with the WORKOS_* settings `workos-emulator` printed.
const siteAddr = process.env.LEPTOS_SITE_ADDR ?? "127.0.0.1:3000";

export default defineConfig({
  testDir: "./tests",
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  forbidOnly: true,
  retries: 0,
  reporter: [["list"]],
  use: {
    baseURL: `http://${siteAddr}`,
    browserName: "chromium",
    launchOptions: {
      // Debian's Chromium: Playwright never downloads a browser here.
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
});
