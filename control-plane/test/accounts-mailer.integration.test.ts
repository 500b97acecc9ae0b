import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SMTPServer, type SMTPServerAddress } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verificationMail } from '../src/accounts/account-mail.ts';
import { createMailer, mailOutboxDir } from '../src/accounts/mailer.ts';

const FROM = 'Citadel <no-reply@citadel.test>';
const TOKEN = 'A'.repeat(43);

/** Undoes quoted-printable soft line breaks and escapes (RFC 2045 §6.7), enough to read a link. */
function decodeQuotedPrintable(text: string): string {
  return text
    .replace(/=\r\n/g, '')
    .replace(/=([0-9A-F]{2})/g, (_match, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

const message = verificationMail({
  to: 'ada@example.com',
  displayName: 'Ada',
  publicUrl: 'https://citadel.example.com',
  token: TOKEN,
  validForHours: 24,
});

describe('outbox mail transport (the single-machine default)', () => {
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'citadel-mail-'));
  });

  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('writes an RFC 5322 message into <data dir>/mail/outbox, dir 0700, file 0600', async () => {
    const mailer = createMailer({ dataDir, from: FROM });
    expect(mailer.transport).toBe('outbox');
    const sent = await mailer.send(message);
    mailer.close();

    const outbox = mailOutboxDir(dataDir);
    expect((await stat(outbox)).mode & 0o777).toBe(0o700);
    const files = await readdir(outbox);
    expect(files).toEqual([path.basename(sent.file ?? '')]);
    expect(files[0]).toMatch(/\.eml$/);
    expect((await stat(path.join(outbox, files[0] ?? ''))).mode & 0o777).toBe(0o600);

    const raw = await readFile(path.join(outbox, files[0] ?? ''), 'utf8');
    const headerEnd = raw.indexOf('\r\n\r\n');
    const head = raw.slice(0, headerEnd);
    const body = raw.slice(headerEnd + 4);
    // Every line ends in CRLF, as RFC 5322 §2.1 asks.
    expect(raw.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
    expect(head).toMatch(/^From: Citadel <no-reply@citadel\.test>$/m);
    expect(head).toMatch(/^To: ada@example\.com$/m);
    expect(head).toMatch(/^Subject: Confirm your e-mail address for Citadel$/m);
    expect(head).toMatch(/^Date: /m);
    expect(head).toMatch(
      new RegExp(`^Message-ID: ${sent.messageId.replace(/[.+]/g, '\\$&')}$`, 'm'),
    );
    expect(decodeQuotedPrintable(body)).toContain(
      `https://citadel.example.com/console/verify-email?token=${TOKEN}`,
    );
  });
});

describe('SMTP mail transport (CITADEL_SMTP_URL)', () => {
  const received: Array<{ from: string; to: string[]; user: string | undefined; raw: string }> = [];
  let server: SMTPServer;
  let port: number;

  beforeAll(async () => {
    // A real SMTP server on loopback (the smtp-server package), without TLS: the mailer must
    // still authenticate when the URL carries credentials.
    server = new SMTPServer({
      disabledCommands: ['STARTTLS'],
      allowInsecureAuth: true,
      authOptional: true,
      logger: false,
      onAuth(auth, _session, callback) {
        if (auth.username === 'citadel' && auth.password === 's3cret') {
          callback(null, { user: auth.username });
          return;
        }
        callback(new Error('Invalid username or password'));
      },
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          const address = (entry: SMTPServerAddress | false) => (entry ? entry.address : '');
          received.push({
            from: address(session.envelope.mailFrom),
            to: session.envelope.rcptTo.map(address),
            user: session.user as string | undefined,
            raw: Buffer.concat(chunks).toString('utf8'),
          });
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('delivers the message to the SMTP server, authenticated with the URL credentials', async () => {
    const mailer = createMailer({
      dataDir: '/nonexistent',
      smtpUrl: `smtp://citadel:s3cret@127.0.0.1:${port}`,
      from: FROM,
    });
    expect(mailer.transport).toBe('smtp');
    const sent = await mailer.send(message);
    mailer.close();

    expect(received).toHaveLength(1);
    const [mail] = received;
    expect(mail?.from).toBe('no-reply@citadel.test');
    expect(mail?.to).toEqual(['ada@example.com']);
    expect(mail?.user).toBe('citadel');
    expect(mail?.raw).toContain(`Message-ID: ${sent.messageId}`);
    expect(mail?.raw).toMatch(/^Subject: Confirm your e-mail address for Citadel$/m);
    expect(decodeQuotedPrintable(mail?.raw ?? '')).toContain(
      `https://citadel.example.com/console/verify-email?token=${TOKEN}`,
    );
  });

  it('fails the send when the server refuses the credentials', async () => {
    const mailer = createMailer({
      dataDir: '/nonexistent',
      smtpUrl: `smtp://citadel:wrong@127.0.0.1:${port}`,
      from: FROM,
    });
    await expect(mailer.send(message)).rejects.toThrow(/Invalid login|auth/i);
    mailer.close();
  });
});
