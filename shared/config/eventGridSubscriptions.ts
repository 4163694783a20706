import type { Settings } from './localSettings.js';

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/**
 * `EVENT_GRID_SUBSCRIPTIONS`, which infra/main.bicep sets: the subscriptions (lower case) whose ARM
 * events reach `onResourceEvent`; `none` (before phase two) gives `[]`. Unset (local runs, a
 * deployment by other means) gives `undefined`: unknown, so nothing is claimed either way.
 * Problems are appended to `problems`.
 */
export function loadEventGridSubscriptions(settings: Settings, problems: string[]): string[] | undefined {
  const raw = settings.EVENT_GRID_SUBSCRIPTIONS?.trim();
  if (raw === undefined || raw === '') return undefined;
  if (raw.toLowerCase() === 'none') return [];
  const ids = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const id of ids) {
    if (!UUID.test(id))
      problems.push(
        `EVENT_GRID_SUBSCRIPTIONS: "${id.slice(0, 64)}" is not a subscription GUID (or set "none")`,
      );
  }
  return ids.filter((id) => UUID.test(id)).map((id) => id.toLowerCase());
}
