import { useState } from 'react';
import { describeError } from '../api/api-error.ts';

/**
 * A change made from a list or card: `run(change)` marks it busy, makes the change, then
 * refreshes (`onChanged`); a refusal is kept as `error` for the card to show.
 */
export function useChange(onChanged: () => Promise<void>) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();

  async function run(change: () => Promise<unknown>): Promise<void> {
    setBusy(true);
    setError(undefined);
    try {
      await change();
      await onChanged();
    } catch (failure) {
      setError(describeError(failure));
    } finally {
      setBusy(false);
    }
  }

  return { busy, error, run };
}
