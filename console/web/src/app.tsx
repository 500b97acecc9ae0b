import type { ReactNode } from 'react';
import { AcceptInvitationPage } from './pages/accept-invitation-page.tsx';
import { CheckEmailPage } from './pages/check-email-page.tsx';
import { DashboardPage } from './pages/dashboard-page.tsx';
import { NotFoundPage } from './pages/not-found-page.tsx';
import { ResetPasswordPage } from './pages/reset-password-page.tsx';
import { SignInPage } from './pages/sign-in-page.tsx';
import { SignUpPage } from './pages/sign-up-page.tsx';
import { VerifyEmailPage } from './pages/verify-email-page.tsx';
import { Redirect, RouterProvider, useRouter } from './routing/router.tsx';
import { SessionProvider, useSession } from './session/session-context.tsx';

/** Pages anyone may open (the links in mail point at some of them). */
const PUBLIC_PAGES: Readonly<Record<string, () => ReactNode>> = {
  '/sign-in': () => <SignInPage />,
  '/sign-up': () => <SignUpPage />,
  '/check-email': () => <CheckEmailPage />,
  '/verify-email': () => <VerifyEmailPage />,
  '/reset-password': () => <ResetPasswordPage />,
  '/accept-invitation': () => <AcceptInvitationPage />,
};

function Routes() {
  const { path, query } = useRouter();
  const { state } = useSession();
  const page = PUBLIC_PAGES[path];
  if (state.status === 'loading') {
    return (
      <p className="boot" role="status">
        Loading the console…
      </p>
    );
  }
  if (page !== undefined) return page();
  if (path !== '/') return <NotFoundPage />;
  if (state.status === 'signed-out') {
    const search = query.toString();
    const next = search === '' ? '' : `?next=${encodeURIComponent(`/?${search}`)}`;
    return <Redirect to={`/sign-in${next}`} />;
  }
  return <DashboardPage account={state.account} />;
}

/** The console: a session, a router, and the pages. */
export function App() {
  return (
    <RouterProvider>
      <SessionProvider>
        <Routes />
      </SessionProvider>
    </RouterProvider>
  );
}
