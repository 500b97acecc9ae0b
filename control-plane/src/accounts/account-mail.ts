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

/**
 * A message with a single-use link: greeting, what the link is for, the link, its expiry,
 * then what to do if the reader did not ask for it.
 */
function singleUseLinkMail(
  input: AccountMailInput,
  mail: { subject: string; page: string; purpose: string[]; closing: string[] },
): MailMessage {
  return {
    to: input.to,
    subject: mail.subject,
    text: [
      `Hello ${input.displayName},`,
      '',
      ...mail.purpose,
      '',
      link(input.publicUrl, mail.page, input.token),
      '',
      `The link works once and expires in ${hours(input.validForHours)}.`,
      ...mail.closing,
      '',
    ].join('\n'),
  };
}

/** The message sent at sign-up and on request: confirms that the address is the account's. */
export function verificationMail(input: AccountMailInput): MailMessage {
  return singleUseLinkMail(input, {
    subject: 'Confirm your e-mail address for Citadel',
    page: VERIFY_EMAIL_PAGE,
    purpose: ['Please confirm your e-mail address by opening this link:'],
    closing: ['If you did not sign up for Citadel, ignore this message.'],
  });
}

/** The message with a password-reset link. */
export function passwordResetMail(input: AccountMailInput): MailMessage {
  return singleUseLinkMail(input, {
    subject: 'Reset your Citadel password',
    page: RESET_PASSWORD_PAGE,
    purpose: [
      'Someone (hopefully you) asked to reset the password of your Citadel account.',
      'To choose a new password, open this link:',
    ],
    closing: [
      'Resetting the password signs you out everywhere.',
      'If you did not ask for this, ignore this message: your password stays as it is.',
    ],
  });
}
