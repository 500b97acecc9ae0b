import { useState } from 'react';

/**
 * A destructive action asked twice: `label` opens the confirmation, which offers
 * `confirmLabel` (runs `onConfirm`, and closes once it has settled) and `cancelLabel`
 * (closes it again).
 */
export function ConfirmButton({
  label,
  confirmLabel,
  cancelLabel,
  busy,
  onConfirm,
}: {
  label: string;
  confirmLabel: string;
  cancelLabel: string;
  busy: boolean;
  onConfirm: () => Promise<void>;
}) {
  const [confirming, setConfirming] = useState(false);
  const confirm = () => void onConfirm().finally(() => setConfirming(false));
  if (!confirming) {
    return (
      <button type="button" className="button button-quiet" onClick={() => setConfirming(true)}>
        {label}
      </button>
    );
  }
  return (
    <>
      <button type="button" className="button button-danger" disabled={busy} onClick={confirm}>
        {confirmLabel}
      </button>
      <button type="button" className="button button-quiet" onClick={() => setConfirming(false)}>
        {cancelLabel}
      </button>
    </>
  );
}
