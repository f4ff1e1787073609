import { test, expect } from "@playwright/test";
test("plan a route on a phone", async ({ page }) => {
  await page.setViewportSize({ width: 375, height: 700 });
  await page.goto("/");
  await page.getByLabel("Start").fill("Car park");
  await expect(page.getByRole("list", { name: "Route legs" })).toBeVisible();
});
