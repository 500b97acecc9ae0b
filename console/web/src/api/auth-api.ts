import { getJson, postJson } from './http-client.ts';

/** The platform's account API (/auth), as control-plane/src/accounts/account-routes.ts serves it. */
export interface Account {
  id: string;
  email: string;
  displayName: string;
  emailVerified: boolean;
}

export interface Session {
  account: Account;
  csrfToken: string;
  expiresAt: string;
}

export interface SignUpInput {
  email: string;
  password: string;
  displayName: string;
  organization: { slug: string; displayName: string };
  tenant: { slug: string; displayName?: string | undefined; plan: string };
}

export const authApi = {
  signUp: (input: SignUpInput) => postJson<{ account: Account }>('/auth/signup', input),
  verifyEmail: (token: string) =>
    postJson<{ emailVerified: true }>('/auth/verify-email', { token }),
  resendVerification: (email: string) => postJson('/auth/verify-email/resend', { email }),
  logIn: (email: string, password: string) => postJson<Session>('/auth/login', { email, password }),
  session: () => getJson<Session>('/auth/session'),
  logOut: () => postJson('/auth/logout'),
  requestPasswordReset: (email: string) => postJson('/auth/password-reset', { email }),
  confirmPasswordReset: (token: string, password: string) =>
    postJson('/auth/password-reset/confirm', { token, password }),
};
