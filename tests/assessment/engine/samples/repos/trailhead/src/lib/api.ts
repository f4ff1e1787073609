export class TrailApiError extends Error {}

export async function loadTrails(signal?: AbortSignal) {
  const response = await fetch("/api/trails", { signal });
  if (!response.ok) throw new TrailApiError(`trail server answered ${response.status}`);
  return response.json();
}
