import {
  createContext,
  use,
  useCallback,
  useEffect,
  useMemo,
  useState,
  type ReactNode,
} from 'react';
import { ApiError } from '../api/api-error.ts';
import { authApi, type Account } from '../api/auth-api.ts';
import { onUnauthenticated, setCsrfToken } from '../api/http-client.ts';

export type SessionState =
  { status: 'loading' } | { status: 'signed-out' } | { status: 'signed-in'; account: Account };

export interface SessionApi {
  state: SessionState;
  signIn: (email: string, password: string) => Promise<void>;
  signOut: () => Promise<void>;
}

const SessionContext = createContext<SessionApi | undefined>(undefined);

/**
 * The signed-in account, if any. The session itself is the platform's httpOnly cookie, which
 * scripts never see; the console only keeps the account and the session's CSRF token, read
 * from GET /auth/session at start and from the login answer.
 */
export function SessionProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<SessionState>({ status: 'loading' });

  const signedOut = useCallback(() => {
    setCsrfToken(undefined);
    setState({ status: 'signed-out' });
  }, []);

  useEffect(() => {
    let active = true;
    authApi.session().then(
      (session) => {
        if (!active) return;
        setCsrfToken(session.csrfToken);
        setState({ status: 'signed-in', account: session.account });
      },
      (error: unknown) => {
        if (!active) return;
        if (!(error instanceof ApiError) || !error.unauthenticated) console.warn(error);
        signedOut();
      },
    );
    const unsubscribe = onUnauthenticated(signedOut);
    return () => {
      active = false;
      unsubscribe();
    };
  }, [signedOut]);

  const signIn = useCallback(async (email: string, password: string) => {
    const session = await authApi.logIn(email, password);
    setCsrfToken(session.csrfToken);
    setState({ status: 'signed-in', account: session.account });
  }, []);

  const signOut = useCallback(async () => {
    try {
      await authApi.logOut();
    } finally {
      signedOut();
    }
  }, [signedOut]);

  const api = useMemo(() => ({ state, signIn, signOut }), [state, signIn, signOut]);
  return <SessionContext value={api}>{children}</SessionContext>;
}

export function useSession(): SessionApi {
  const api = use(SessionContext);
  if (!api) throw new Error('useSession outside SessionProvider');
  return api;
}
