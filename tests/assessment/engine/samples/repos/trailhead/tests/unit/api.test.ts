import { expect, test, vi } from "vitest";
import { loadTrails, TrailApiError } from "../../src/lib/api";
test("a server error becomes a TrailApiError", async () => {
  vi.stubGlobal("fetch", async () => new Response("", { status: 503 }));
  await expect(loadTrails()).rejects.toBeInstanceOf(TrailApiError);
});
