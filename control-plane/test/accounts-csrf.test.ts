import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, describe, expect, it } from 'vitest';
import { setConsoleCookie } from '../src/accounts/console-cookie.ts';
import { csrfTokenMatches, originAllowed } from '../src/accounts/csrf.ts';

const servers: Server[] = [];

afterAll(async () => {
  await Promise.all(
    servers.map((server) => new Promise((resolve) => server.close(() => resolve(undefined)))),
  );
});

/** A real Express app (as the platform configures it) answering what the checks decide. */
async function serve(publicUrl: string | undefined): Promise<string> {
  const app = express();
  app.set('trust proxy', 'loopback');
  app.post('/check', (request, response) => {
    response.json({
      originAllowed: originAllowed(request, publicUrl),
      csrfMatches: csrfTokenMatches(request, 'the-session-csrf-token'),
    });
  });
  app.post('/cookie', (request, response) => {
    setConsoleCookie(request, response, 'secret', { publicUrl, maxAgeMs: 3_600_000 });
    response.end();
  });
  const server = await new Promise<Server>((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function check(url: string, headers: Record<string, string>) {
  const response = await fetch(`${url}/check`, { method: 'POST', headers });
  return (await response.json()) as { originAllowed: boolean; csrfMatches: boolean };
}

async function cookieAttributes(url: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${url}/cookie`, { method: 'POST', headers });
  const [cookie = ''] = response.headers.getSetCookie();
  return cookie.split(';').map((part) => part.trim().toLowerCase());
}

describe('CSRF checks', () => {
  it('without a public URL, accepts the origin the request was sent to', async () => {
    const url = await serve(undefined);
    expect((await check(url, {})).originAllowed).toBe(true);
    expect((await check(url, { origin: url })).originAllowed).toBe(true);
    expect((await check(url, { origin: 'http://evil.example' })).originAllowed).toBe(false);
    expect((await check(url, { origin: 'null' })).originAllowed).toBe(false);
    // Behind a TLS-terminating proxy on loopback the expected origin is https.
    const https = url.replace('http:', 'https:');
    expect((await check(url, { origin: https, 'x-forwarded-proto': 'https' })).originAllowed).toBe(
      true,
    );
    expect((await check(url, { origin: https })).originAllowed).toBe(false);
  });

  it('with a public URL, accepts only its origin', async () => {
    const url = await serve('https://console.example.com/base/');
    expect((await check(url, { origin: 'https://console.example.com' })).originAllowed).toBe(true);
    expect((await check(url, { origin: 'https://CONSOLE.example.com' })).originAllowed).toBe(true);
    expect((await check(url, { origin: url })).originAllowed).toBe(false);
    expect((await check(url, { origin: 'https://console.example.com:8443' })).originAllowed).toBe(
      false,
    );
  });

  it('needs the exact session token in x-csrf-token', async () => {
    const url = await serve(undefined);
    expect((await check(url, {})).csrfMatches).toBe(false);
    expect((await check(url, { 'x-csrf-token': 'the-session-csrf-token' })).csrfMatches).toBe(true);
    expect((await check(url, { 'x-csrf-token': 'the-session-csrf-tokem' })).csrfMatches).toBe(
      false,
    );
    expect((await check(url, { 'x-csrf-token': 'the-session' })).csrfMatches).toBe(false);
  });
});

describe('console session cookie', () => {
  it('is httpOnly, SameSite=Lax, Path=/ with Max-Age, and Secure only over https', async () => {
    const plain = await serve(undefined);
    const attributes = await cookieAttributes(plain);
    expect(attributes).toEqual(
      expect.arrayContaining(['citadel_console=secret', 'httponly', 'samesite=lax', 'path=/']),
    );
    expect(attributes).toContain('max-age=3600');
    expect(attributes).not.toContain('secure');
    expect(await cookieAttributes(plain, { 'x-forwarded-proto': 'https' })).toContain('secure');
    expect(await cookieAttributes(await serve('https://console.example.com'))).toContain('secure');
  });
});
