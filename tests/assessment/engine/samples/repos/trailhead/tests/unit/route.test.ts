import { expect, test } from "vitest";
import { walkingMinutes } from "../../src/lib/route";
test("flat 5 km takes an hour", () => expect(walkingMinutes([{ from: "a", to: "b", km: 5, ascentM: 0 }])).toBe(60));
