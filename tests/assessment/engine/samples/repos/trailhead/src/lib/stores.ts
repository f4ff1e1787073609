import { writable } from "svelte/store";
export const route = writable({ legs: [] as { from: string; to: string; km: number }[] });
