/** The host's configuration, read once from its environment by `host-main.ts`. */
export interface HostEnvironment {
  tenantSlug: string;
  tenantId: string;
  /** `postgres(ql)://` URL with the tenant's own role and database. */
  databaseUrl: string;
  /** Enabled services, in `CITADEL_SERVICES` order, without duplicates. */
  services: string[];
  /** 0 picks a free port. */
  port: number;
  /**
   * The port of the host's gRPC server (`GRPC_PORT`; 0 picks a free one), on `listenHost`
   * too; undefined (the default): no gRPC server, and gRPC is never loaded.
   */
  grpcPort: number | undefined;
  /**
   * The address to listen on (`HOST`): 127.0.0.1 by default — on one machine only the
   * platform's gateway reaches a host; in a pod, 0.0.0.0 behind the tenant's NetworkPolicy.
   */
  listenHost: string;
  /**
   * Where the platform's token keys are (`CITADEL_TOKEN_ISSUER`, `CITADEL_TOKEN_JWKS_URL`);
   * without them the host answers health checks only.
   */
  tokens: { issuer: string; jwksUrl: URL } | undefined;
}

export type HostEnvironmentResult =
  { ok: true; environment: HostEnvironment } | { ok: false; problems: string[] };

/** The tenant slug rule of `@citadel/contracts` (not imported: see `problem-response.ts`). */
const SLUG_PATTERN = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
const SERVICE_NAME_PATTERN = /^[a-z][a-z0-9-]*$/;

/**
 * Validates the host's environment by hand (zod would cost start time) and lists every
 * problem at once, so a misconfigured host says all that is wrong in one log line.
 */
export function readHostEnvironment(
  env: Readonly<Record<string, string | undefined>>,
): HostEnvironmentResult {
  const problems: string[] = [];
  const required = (name: string): string => {
    const value = env[name]?.trim() ?? '';
    if (value === '') problems.push(`${name} is required`);
    return value;
  };

  const tenantSlug = required('CITADEL_TENANT_SLUG');
  if (tenantSlug && (tenantSlug.length > 40 || !SLUG_PATTERN.test(tenantSlug))) {
    problems.push(`CITADEL_TENANT_SLUG ${JSON.stringify(tenantSlug)} is not a tenant slug`);
  }
  const tenantId = required('CITADEL_TENANT_ID');
  const databaseUrl = required('CITADEL_TENANT_DATABASE_URL');
  if (databaseUrl && !isPostgresUrl(databaseUrl)) {
    // Never echo the value: it holds the password.
    problems.push('CITADEL_TENANT_DATABASE_URL must be a postgres:// or postgresql:// URL');
  }
  const services = readServices(env.CITADEL_SERVICES, problems);
  const port = readPort('PORT', env.PORT, problems) ?? 0;
  const grpcPort = readPort('GRPC_PORT', env.GRPC_PORT, problems);
  const listenHost = readListenHost(env.HOST, problems);
  const tokens = readTokenIssuer(env, problems);

  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    environment: {
      tenantSlug,
      tenantId,
      databaseUrl,
      services,
      port,
      grpcPort,
      listenHost,
      tokens,
    },
  };
}

const IPV4_PATTERN = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

/** An IP address to bind (IPv4 dotted or IPv6 with a colon); hostnames are refused. */
function readListenHost(value: string | undefined, problems: string[]): string {
  const host = value?.trim() ?? '';
  if (host === '') return '127.0.0.1';
  if (IPV4_PATTERN.test(host) || (host.includes(':') && /^[0-9a-fA-F:.]+$/.test(host))) return host;
  problems.push(`HOST ${JSON.stringify(host)} is not an IP address to listen on`);
  return '127.0.0.1';
}

/** Both variables or neither: half a configuration would fail every request, silently. */
function readTokenIssuer(
  env: Readonly<Record<string, string | undefined>>,
  problems: string[],
): HostEnvironment['tokens'] {
  const issuer = env.CITADEL_TOKEN_ISSUER?.trim() ?? '';
  const jwksUrl = env.CITADEL_TOKEN_JWKS_URL?.trim() ?? '';
  if (issuer === '' && jwksUrl === '') return undefined;
  if (issuer === '' || jwksUrl === '') {
    problems.push('CITADEL_TOKEN_ISSUER and CITADEL_TOKEN_JWKS_URL must be set together');
    return undefined;
  }
  const url = httpUrl(jwksUrl);
  if (!url) {
    problems.push(`CITADEL_TOKEN_JWKS_URL ${JSON.stringify(jwksUrl)} must be an http(s) URL`);
    return undefined;
  }
  return { issuer, jwksUrl: url };
}

function httpUrl(value: string): URL | undefined {
  const url = URL.parse(value);
  return url?.protocol === 'http:' || url?.protocol === 'https:' ? url : undefined;
}

function readServices(value: string | undefined, problems: string[]): string[] {
  const names = (value ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name.length > 0);
  for (const name of names) {
    if (!SERVICE_NAME_PATTERN.test(name)) {
      problems.push(`CITADEL_SERVICES entry ${JSON.stringify(name)} is not a service name`);
    }
  }
  return [...new Set(names)];
}

/** A port from 0 to 65535; undefined when the variable is unset or blank. */
function readPort(name: string, value: string | undefined, problems: string[]): number | undefined {
  const text = value?.trim() ?? '';
  if (text === '') return undefined;
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65_535) {
    problems.push(`${name} ${JSON.stringify(text)} must be an integer from 0 to 65535`);
  }
  return port;
}

function isPostgresUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'postgres:' || url.protocol === 'postgresql:';
  } catch {
    return false;
  }
}
