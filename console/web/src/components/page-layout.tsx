import { useEffect, useRef, type ReactNode } from 'react';
import { Link } from '../routing/router.tsx';

/**
 * A page's main heading: sets the document title and takes focus when the page opens, so
 * screen-reader users hear where a client-side navigation went.
 */
export function PageHeading({ children, title }: { children: ReactNode; title: string }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${title} · Citadel console`;
    heading.current?.focus();
  }, [title]);
  return (
    <h1 ref={heading} tabIndex={-1}>
      {children}
    </h1>
  );
}

function Brand() {
  return (
    <Link to="/" className="brand">
      <span className="brand-mark" aria-hidden="true">
        ◆
      </span>{' '}
      Citadel
    </Link>
  );
}

/** The centred card of the signed-out pages (sign in, sign up, links from mail). */
export function AuthLayout({ children, wide = false }: { children: ReactNode; wide?: boolean }) {
  return (
    <div className="auth-shell">
      <header className="auth-header">
        <Brand />
      </header>
      <main className={wide ? 'auth-card auth-card-wide' : 'auth-card'}>{children}</main>
    </div>
  );
}

/** The signed-in frame: top bar with the account and sign-out, then the page. */
export function AppLayout({ children, account }: { children: ReactNode; account: ReactNode }) {
  return (
    <div className="app-shell">
      <header className="topbar">
        <Brand />
        <div className="topbar-account">{account}</div>
      </header>
      <main className="app-main">{children}</main>
    </div>
  );
}
