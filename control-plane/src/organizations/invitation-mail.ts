import type { MailMessage } from '../accounts/mailer.ts';
import type { InvitationMail } from './organization.service.ts';

/** The console page an invitation link opens; the console posts the token to acceptInvitation. */
export const ACCEPT_INVITATION_PAGE = '/console/accept-invitation';

/** The invitation e-mail, with its single-use link. */
export function invitationMail(invitation: InvitationMail, publicUrl: string): MailMessage {
  const url = new URL(ACCEPT_INVITATION_PAGE, `${publicUrl}/`);
  url.searchParams.set('token', invitation.token);
  return {
    to: invitation.to,
    subject: `You are invited to ${invitation.organizationName} on Citadel`,
    text: [
      'Hello,',
      '',
      `${invitation.invitedBy} invites you to join ${invitation.organizationName} on Citadel as ${invitation.role}.`,
      'Sign in (or sign up with this e-mail address) and open this link to accept:',
      '',
      url.toString(),
      '',
      'The link works once and expires in 7 days.',
      '',
    ].join('\n'),
  };
}
