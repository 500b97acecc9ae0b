import { useState } from 'react';
import {
  inviteMember,
  revokeInvitation,
  type Invitation,
  type MemberRole,
  type Organization,
} from '../api/console-operations.ts';
import { FormError, SelectField, SubmitButton, TextField } from '../components/form-controls.tsx';
import { RoleBadge } from '../components/status-badge.tsx';
import { emailProblem } from '../forms/field-rules.ts';
import { useForm } from '../forms/use-form.ts';
import { ROLE_DESCRIPTIONS, canAdminister, grantableRoles } from './roles.ts';
import { useChange } from './use-change.ts';

function pending(invitation: Invitation, now: number): boolean {
  return (
    invitation.acceptedAt === null &&
    invitation.revokedAt === null &&
    Date.parse(invitation.expiresAt) > now
  );
}

/** Invites someone by e-mail; the platform mails the link (the token is only in the mail). */
export function InviteMemberForm({
  organization,
  onInvited,
}: {
  organization: Organization;
  onInvited: () => Promise<void>;
}) {
  const [sentTo, setSentTo] = useState<string | undefined>();
  const roles = grantableRoles(organization.myRole);
  const form = useForm<'email' | 'role'>({
    initial: { email: '', role: 'MEMBER' },
    validate: (values) => ({ email: emailProblem(values.email) }),
    serverCodes: { 'already-member': 'email' },
  });
  const submit = form.onSubmit(async ({ email, role }) => {
    await inviteMember({
      organization: organization.slug,
      email: email.trim(),
      role: role as MemberRole,
    });
    setSentTo(email.trim());
    form.setValues({ email: '', role });
    await onInvited();
  });
  return (
    <form onSubmit={submit} noValidate className="inline-form" aria-label="Invite a member">
      <h4>Invite a member</h4>
      <FormError message={form.formError} />
      {sentTo !== undefined && (
        <p className="alert alert-success" role="status">
          Invitation sent to {sentTo}.
        </p>
      )}
      <div className="form-row">
        <TextField {...form.bind('email')} label="E-mail" type="email" autoComplete="off" />
        <SelectField
          {...form.bind('role')}
          label="Role"
          choices={roles.map((role) => ({ value: role, label: ROLE_DESCRIPTIONS[role] }))}
        />
      </div>
      <div className="form-actions">
        <SubmitButton submitting={form.submitting} busyLabel="Sending…">
          Send invitation
        </SubmitButton>
      </div>
    </form>
  );
}

function InvitationRow({
  organization,
  invitation,
  onChanged,
}: {
  organization: Organization;
  invitation: Invitation;
  onChanged: () => Promise<void>;
}) {
  const { busy, error, run } = useChange(onChanged);
  const revoke = () => run(() => revokeInvitation(organization.slug, invitation.id));

  return (
    <li>
      <span>{invitation.email}</span> <RoleBadge role={invitation.role} />{' '}
      <span className="muted">until {new Date(invitation.expiresAt).toLocaleDateString()}</span>
      {canAdminister(organization.myRole) && (
        <button
          type="button"
          className="button button-quiet"
          disabled={busy}
          onClick={() => void revoke()}
        >
          Revoke
        </button>
      )}
      {error !== undefined && (
        <span className="field-error" role="alert">
          {error}
        </span>
      )}
    </li>
  );
}

/** Invitations not yet accepted, revoked or expired. */
export function PendingInvitations({
  organization,
  onChanged,
}: {
  organization: Organization;
  onChanged: () => Promise<void>;
}) {
  const now = Date.now();
  const open = organization.invitations.filter((invitation) => pending(invitation, now));
  if (open.length === 0) return null;
  return (
    <div className="pending-invitations">
      <h4>Pending invitations</h4>
      <ul aria-label={`Pending invitations of ${organization.displayName}`}>
        {open.map((invitation) => (
          <InvitationRow
            key={invitation.id}
            organization={organization}
            invitation={invitation}
            onChanged={onChanged}
          />
        ))}
      </ul>
    </div>
  );
}
