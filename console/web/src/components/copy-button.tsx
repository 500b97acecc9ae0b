import { useState } from 'react';

/** Copies `text` to the clipboard and says whether it worked (e.g. no permission). */
export function CopyButton({ text, label = 'Copy' }: { text: string; label?: string }) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  async function copy() {
    try {
      await navigator.clipboard.writeText(text);
      setState('copied');
    } catch {
      setState('failed');
    }
  }
  return (
    <>
      <button type="button" className="button" onClick={() => void copy()}>
        {label}
      </button>
      <span className="copy-status" role="status">
        {state === 'copied' && 'Copied to the clipboard.'}
        {state === 'failed' && 'Could not copy: select the text and copy it yourself.'}
      </span>
    </>
  );
}
