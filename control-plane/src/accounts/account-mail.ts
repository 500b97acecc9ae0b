import type { MailMessage } from './mailer.ts';

/** The console pages the links in account mail open; the console posts the token to /auth. */
export const VERIFY_EMAIL_PAGE = '/console/verify-email';
export const RESET_PASSWORD_PAGE = '/console/reset-password';

export interface AccountMailInput {
  to: string;
  displayName: string;
  /** The platform's public base URL, without a trailing slash. */
  publicUrl: string;
  /** The single-use token, as sent (only its digest is stored). */
  token: string;
  validForHours: number;
}

function link(publicUrl: string, page: string, token: string): string {
  const url = new URL(page, `${publicUrl}/`);
  url.searchParams.set('token', token);
  return url.toString();
}

function hours(count: number): string {
  return count === 1 ? '1 hour' : `${count} hours`;
}

/** The message sent at sign-up and on request: confirms that the address is the account's. */
export function verificationMail(input: AccountMailInput): MailMessage {
  return {
    to: input.to,
    subject: 'Confirm your e-mail address for Citadel',
    text: [
      `Hello ${input.displayName},`,
      '',
      'Please confirm your e-mail address by opening this link:',
      '',
      link(input.publicUrl, VERIFY_EMAIL_PAGE, input.token),
      '',
      `The link works once and expires in ${hours(input.validForHours)}.`,
      'If you did not sign up for Citadel, ignore this message.',
      '',
    ].join('\n'),
  };
}

/** The message with a password-reset link. */
export function passwordResetMail(input: AccountMailInput): MailMessage {
  return {
    to: input.to,
    subject: 'Reset your Citadel password',
    text: [
      `Hello ${input.displayName},`,
      '',
      'Someone (hopefully you) asked to reset the password of your Citadel account.',
      'To choose a new password, open this link:',
      '',
      link(input.publicUrl, RESET_PASSWORD_PAGE, input.token),
      '',
      `The link works once and expires in ${hours(input.validForHours)}.`,
      'Resetting the password signs you out everywhere.',
      'If you did not ask for this, ignore this message: your password stays as it is.',
      '',
    ].join('\n'),
  };
}
