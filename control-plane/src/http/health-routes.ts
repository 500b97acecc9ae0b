import { Router } from 'express';
import { problem, sendProblem } from './problem.ts';

/** A named dependency check for /readyz; rejects when the dependency is unreachable. */
export interface ReadinessCheck {
  name: string;
  check(): Promise<void>;
}

const CHECK_TIMEOUT_MS = 2_000;

async function runCheck(
  readiness: ReadinessCheck,
): Promise<{ name: string; ok: boolean; error?: string }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(
      () => reject(new Error(`timed out after ${CHECK_TIMEOUT_MS} ms`)),
      CHECK_TIMEOUT_MS,
    );
  });
  try {
    await Promise.race([readiness.check(), timeout]);
    return { name: readiness.name, ok: true };
  } catch (error) {
    return {
      name: readiness.name,
      ok: false,
      error: error instanceof Error ? error.message : String(error),
    };
  } finally {
    clearTimeout(timer);
  }
}

/** `/healthz`: the process is up. `/readyz`: every dependency answers. */
export function createHealthRouter(checks: ReadinessCheck[]): Router {
  const router = Router();
  router.get('/healthz', (_request, response) => {
    response.json({ status: 'ok' });
  });
  router.get('/readyz', async (_request, response) => {
    const results = await Promise.all(checks.map(runCheck));
    const failed = results.filter((result) => !result.ok);
    if (failed.length > 0) {
      sendProblem(
        response,
        problem({
          status: 503,
          slug: 'not-ready',
          title: 'Not ready',
          detail: `Unreachable: ${failed.map((result) => result.name).join(', ')}`,
          extensions: { checks: results },
        }),
      );
      return;
    }
    response.json({ status: 'ready', checks: results });
  });
  return router;
}
