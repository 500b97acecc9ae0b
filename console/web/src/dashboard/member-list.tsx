import {
  removeMember,
  updateMemberRole,
  type Member,
  type MemberRole,
  type Organization,
} from '../api/console-operations.ts';
import { RoleBadge, roleLabel } from '../components/status-badge.tsx';
import { canManageMember, grantableRoles } from './roles.ts';
import { ConfirmButton } from '../components/confirm-button.tsx';
import { FormError } from '../components/form-controls.tsx';
import { useChange } from './use-change.ts';

interface MemberRowProps {
  organization: Organization;
  member: Member;
  isMe: boolean;
  onChanged: () => Promise<void>;
}

function MemberControls({ organization, member, onChanged }: Omit<MemberRowProps, 'isMe'>) {
  const { busy, error, run } = useChange(onChanged);
  const roles = grantableRoles(organization.myRole);

  return (
    <div className="member-controls">
      <label className="visually-hidden" htmlFor={`role-${organization.slug}-${member.accountId}`}>
        Role of {member.email}
      </label>
      <select
        id={`role-${organization.slug}-${member.accountId}`}
        value={member.role}
        disabled={busy}
        onChange={(event) => {
          const role = event.target.value as MemberRole;
          void run(() =>
            updateMemberRole({
              organization: organization.slug,
              accountId: member.accountId,
              role,
            }),
          );
        }}
      >
        {(roles.includes(member.role) ? roles : [member.role, ...roles]).map((role) => (
          <option key={role} value={role}>
            {roleLabel(role)}
          </option>
        ))}
      </select>
      <ConfirmButton
        label="Remove…"
        confirmLabel={`Remove ${member.email}`}
        cancelLabel="Cancel"
        busy={busy}
        onConfirm={() => run(() => removeMember(organization.slug, member.accountId))}
      />
      <FormError message={error} />
    </div>
  );
}

function MemberRow({ organization, member, isMe, onChanged }: MemberRowProps) {
  const manageable = !isMe && canManageMember(organization.myRole, member.role);
  return (
    <tr>
      <td>
        <span className="member-name">{member.displayName}</span>
        {isMe && <span className="muted"> (you)</span>}
      </td>
      <td>{member.email}</td>
      <td>
        {manageable ? (
          <MemberControls organization={organization} member={member} onChanged={onChanged} />
        ) : (
          <RoleBadge role={member.role} />
        )}
      </td>
    </tr>
  );
}

/** The organisation's members; role changes and removal where the caller may make them. */
export function MemberList({
  organization,
  myAccountId,
  onChanged,
}: {
  organization: Organization;
  myAccountId: string;
  onChanged: () => Promise<void>;
}) {
  return (
    <table className="table" aria-label={`Members of ${organization.displayName}`}>
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col">E-mail</th>
          <th scope="col">Role</th>
        </tr>
      </thead>
      <tbody>
        {organization.members.map((member) => (
          <MemberRow
            key={member.accountId}
            organization={organization}
            member={member}
            isMe={member.accountId === myAccountId}
            onChanged={onChanged}
          />
        ))}
      </tbody>
    </table>
  );
}
