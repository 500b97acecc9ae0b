import {
  createContext,
  use,
  useCallback,
  useEffect,
  useMemo,
  useState,
  type MouseEvent,
  type ReactNode,
} from 'react';

/**
 * Client-side routing under /console: a few pages, so the History API and one context do the
 * job without a routing library. Paths inside the app are written without the basename
 * (`/sign-in`); links and history entries carry it (`/console/sign-in`).
 */
export const BASENAME = '/console';

export interface NavigateOptions {
  replace?: boolean;
}

export interface RouterState {
  /** The path inside the app, `/` at the console's root. */
  path: string;
  query: URLSearchParams;
  navigate: (to: string, options?: NavigateOptions) => void;
}

const RouterContext = createContext<RouterState | undefined>(undefined);

function readLocation(): { path: string; search: string } {
  const { pathname, search } = window.location;
  const inside = pathname.startsWith(BASENAME) ? pathname.slice(BASENAME.length) : pathname;
  const path = inside.replace(/\/+$/, '');
  return { path: path === '' ? '/' : path, search };
}

/** The browser address of an app path. */
export function hrefOf(to: string): string {
  return `${BASENAME}${to === '/' ? '/' : to}`;
}

export function RouterProvider({ children }: { children: ReactNode }) {
  const [location, setLocation] = useState(readLocation);

  useEffect(() => {
    const onPopState = () => setLocation(readLocation());
    window.addEventListener('popstate', onPopState);
    return () => window.removeEventListener('popstate', onPopState);
  }, []);

  const navigate = useCallback((to: string, options: NavigateOptions = {}) => {
    if (options.replace === true) window.history.replaceState(null, '', hrefOf(to));
    else window.history.pushState(null, '', hrefOf(to));
    setLocation(readLocation());
    window.scrollTo(0, 0);
  }, []);

  const state = useMemo(
    () => ({ path: location.path, query: new URLSearchParams(location.search), navigate }),
    [location, navigate],
  );
  return <RouterContext value={state}>{children}</RouterContext>;
}

export function useRouter(): RouterState {
  const state = use(RouterContext);
  if (!state) throw new Error('useRouter outside RouterProvider');
  return state;
}

function isPlainLeftClick(event: MouseEvent): boolean {
  return event.button === 0 && !event.metaKey && !event.ctrlKey && !event.shiftKey && !event.altKey;
}

/** An `<a>` to an app path that navigates without reloading (modified clicks open as usual). */
export function Link({
  to,
  children,
  className,
}: {
  to: string;
  children: ReactNode;
  className?: string;
}) {
  const { navigate } = useRouter();
  return (
    <a
      href={hrefOf(to)}
      className={className}
      onClick={(event) => {
        if (!isPlainLeftClick(event)) return;
        event.preventDefault();
        navigate(to);
      }}
    >
      {children}
    </a>
  );
}

/** Redirects on mount (for pages that need, or must not have, a session). */
export function Redirect({ to }: { to: string }) {
  const { navigate } = useRouter();
  useEffect(() => navigate(to, { replace: true }), [navigate, to]);
  return null;
}

/** `next` from the query when it is a path inside the app; `fallback` otherwise. */
export function safeNext(query: URLSearchParams, fallback = '/'): string {
  const next = query.get('next');
  // Only app paths: `//evil.example` or `https://…` would leave the console.
  return next?.startsWith('/') === true && !next.startsWith('//') ? next : fallback;
}
