import { randomUUID } from 'node:crypto';
import { chmod, mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import nodemailer from 'nodemailer';

/** One e-mail the platform sends: plain text, one recipient. */
export interface MailMessage {
  to: string;
  subject: string;
  text: string;
}

/** What a transport reports about a message it took. */
export interface SentMail {
  messageId: string;
  /** The outbox transport: the `.eml` file the message was written to. */
  file?: string | undefined;
}

/**
 * How the platform sends mail. Two transports: the single-machine default writes each
 * message as an RFC 5322 file into `<data dir>/mail/outbox` (an operator, or a local mail
 * agent, picks them up); with `CITADEL_SMTP_URL` messages go to that SMTP server.
 */
export interface Mailer {
  readonly transport: 'outbox' | 'smtp';
  send(message: MailMessage): Promise<SentMail>;
  close(): void;
}

export interface MailerOptions {
  /** The platform's data directory; the outbox is `<it>/mail/outbox`. */
  dataDir: string;
  /** `smtp://user:pass@host:587` or `smtps://…:465`; the outbox is used when undefined. */
  smtpUrl?: string | undefined;
  /** The From header, e.g. `Citadel <no-reply@example.com>`. */
  from: string;
}

/** Where the outbox transport writes messages. */
export function mailOutboxDir(dataDir: string): string {
  return path.join(dataDir, 'mail', 'outbox');
}

/** A file name that sorts by time and never collides: `2026-11-24T21-15-00-000Z-<uuid>.eml`. */
function outboxFileName(): string {
  return `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomUUID()}.eml`;
}

/**
 * Writes messages as `.eml` files. nodemailer's stream transport composes the message
 * (headers, Message-ID, MIME, CRLF line ends), so the files are what an MTA would receive.
 * The directory is 0700 and files 0600: they carry single-use tokens. Each file is written
 * under a temporary name and renamed, so a reader never sees half a message.
 */
function createOutboxMailer(options: MailerOptions): Mailer {
  const directory = mailOutboxDir(options.dataDir);
  const composer = nodemailer.createTransport({
    streamTransport: true,
    buffer: true,
    newline: 'windows',
  });
  let ready: Promise<void> | undefined;
  const prepare = async () => {
    await mkdir(directory, { recursive: true, mode: 0o700 });
    await chmod(directory, 0o700);
  };

  return {
    transport: 'outbox',
    async send(message) {
      ready ??= prepare();
      await ready;
      const info = await composer.sendMail({ from: options.from, ...message });
      const file = path.join(directory, outboxFileName());
      const partial = `${file}.partial`;
      await writeFile(partial, info.message as Buffer, { mode: 0o600, flag: 'wx' });
      await rename(partial, file);
      return { messageId: info.messageId, file };
    },
    close() {
      composer.close();
    },
  };
}

function createSmtpMailer(smtpUrl: string, from: string): Mailer {
  const transport = nodemailer.createTransport(smtpUrl);
  return {
    transport: 'smtp',
    async send(message) {
      const info = await transport.sendMail({ from, ...message });
      return { messageId: info.messageId };
    },
    close() {
      transport.close();
    },
  };
}

/** The SMTP mailer when a URL is configured, the outbox mailer otherwise. */
export function createMailer(options: MailerOptions): Mailer {
  return options.smtpUrl === undefined
    ? createOutboxMailer(options)
    : createSmtpMailer(options.smtpUrl, options.from);
}
