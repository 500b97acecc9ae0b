import { describe, expect, it } from 'vitest';
import { containsPii, detectPii, type PiiType, redactText, scrubForLog } from '../src/dlp/index.ts';
import { documents, nearMisses, pii, secrets } from './fixtures/pii-corpus.ts';

const corpus = documents.join('\n');
const salt = 'tenant-salt';

describe('redactText on the seeded corpus', () => {
  const { text, report } = redactText(corpus, { fingerprintSalt: salt });

  it('leaves no personal value or credential in the text', () => {
    for (const sample of pii) {
      expect(corpus, `fixture holds ${sample.type}`).toContain(sample.value);
      expect(text, `${sample.type} survived`).not.toContain(sample.value);
    }
  });

  it('redacts each sample as its own type', () => {
    for (const sample of pii) {
      const start = corpus.indexOf(sample.value);
      const finding = report.findings.find((item) => item.start <= start && start < item.end);
      expect(finding?.type, sample.value.slice(0, 24)).toBe(sample.type);
    }
  });

  it('keeps every near miss', () => {
    for (const nearMiss of nearMisses) {
      expect(corpus, 'fixture holds the near miss').toContain(nearMiss);
      expect(text, 'near miss redacted').toContain(nearMiss);
    }
  });

  it('reports spans in the original text', () => {
    for (const sample of pii) {
      const start = corpus.indexOf(sample.value);
      const exact = report.findings.some(
        (finding) => finding.start === start && finding.end === start + sample.value.length,
      );
      expect(exact, `${sample.type} span`).toBe(true);
    }
    for (const finding of report.findings) {
      expect(finding.length).toBe(finding.end - finding.start);
    }
  });

  it('keeps no raw value in the report', () => {
    const serialised = JSON.stringify(report);
    for (const sample of pii) {
      expect(serialised).not.toContain(sample.value);
    }
    for (const finding of report.findings) {
      expect(finding.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    }
  });

  it('counts per type and in total', () => {
    const expected: Partial<Record<PiiType, number>> = {};
    for (const sample of pii) expected[sample.type] = (expected[sample.type] ?? 0) + 1;
    // The JWT rides on an `Authorization:` line; nothing else is found twice.
    expect(report.countsByType).toEqual(expected);
    expect(report.total).toBe(pii.length);
  });

  it('is idempotent: redacted text holds nothing more to redact', () => {
    expect(containsPii(text)).toBe(false);
    expect(redactText(text).report.total).toBe(0);
  });
});

describe('redactText', () => {
  it('uses typed placeholders, configurable per type', () => {
    const input = 'mail jane.doe@example.com, card 4111 1111 1111 1111';
    expect(redactText(input).text).toBe('mail [REDACTED:EMAIL], card [REDACTED:PAYMENT_CARD]');
    expect(redactText(input, { placeholders: { EMAIL: '<email>' } }).text).toBe(
      'mail <email>, card [REDACTED:PAYMENT_CARD]',
    );
  });

  it('looks only for the types asked for', () => {
    const input = 'mail jane.doe@example.com, card 4111 1111 1111 1111';
    expect(redactText(input, { types: ['PAYMENT_CARD'] }).text).toBe(
      'mail jane.doe@example.com, card [REDACTED:PAYMENT_CARD]',
    );
  });

  it('gives no fingerprint without a salt, and the same one for the same value however written', () => {
    const input = 'card 4111 1111 1111 1111 or 4111-1111-1111-1111 or 5555555555554444';
    expect(
      redactText(input).report.findings.every((finding) => finding.fingerprint === undefined),
    ).toBe(true);
    const [first, second, third] = redactText(input, { fingerprintSalt: salt }).report.findings;
    expect(first?.fingerprint).toBe(second?.fingerprint);
    expect(first?.fingerprint).not.toBe(third?.fingerprint);
    const other = redactText(input, { fingerprintSalt: 'another-tenant' }).report.findings[0];
    expect(other?.fingerprint).not.toBe(first?.fingerprint);
  });

  it('resolves overlaps by priority, then length, whatever the detector order', () => {
    // The key id is also the value of an assignment: the specific detector wins.
    const assigned = `api_key=${secrets.awsAccessKeyId}`;
    expect(detectPii(assigned).map((finding) => finding.type)).toEqual(['AWS_ACCESS_KEY_ID']);
    // An e-mail address as a password value is a secret.
    expect(redactText('password=jane.doe@example.com').text).toBe('password=[REDACTED:SECRET]');
    // The digits of an IBAN are not also a phone number.
    expect(redactText('IBAN DE89 3704 0044 0532 0130 00.').text).toBe('IBAN [REDACTED:IBAN].');
  });

  it('takes a card followed by other digits up to where Luhn holds', () => {
    expect(redactText('card 4111 1111 1111 1111 12 25').text).toBe(
      'card [REDACTED:PAYMENT_CARD] 12 25',
    );
  });

  it('ends an IBAN at its registry length', () => {
    expect(redactText('GB82 WEST 1234 5698 7654 32 PAID IN FULL').text).toBe(
      '[REDACTED:IBAN] PAID IN FULL',
    );
  });

  it('redacts the value of an assignment, not its name', () => {
    expect(redactText('DB_PASSWORD=s3cr3t-value\nname=app').text).toBe(
      'DB_PASSWORD=[REDACTED:SECRET]\nname=app',
    );
    expect(redactText(`{"client_secret": "abc def"}`).text).toBe(
      '{"client_secret": "[REDACTED:SECRET]"}',
    );
    expect(redactText('password: ${DB_PASSWORD}').text).toBe('password: ${DB_PASSWORD}');
  });

  it('redacts a private key block whose END line is missing up to the blank line', () => {
    const truncated = `${secrets.privateKey.split('\n').slice(0, 4).join('\n')}\n\nAfter the key.`;
    expect(redactText(truncated).text).toBe('[REDACTED:PRIVATE_KEY]\n\nAfter the key.');
  });

  it('rejects JWT look-alikes without a JSON header', () => {
    expect(redactText('eyJub3QganNvbg.eyJzdWIiOiIxIn0.sig').report.total).toBe(0);
  });

  it('handles empty and PII-free text', () => {
    expect(redactText('')).toEqual({
      text: '',
      report: { findings: [], countsByType: {}, total: 0 },
    });
    expect(redactText('Nothing to see here, version 1.2.3.').report.total).toBe(0);
  });

  it('finishes a 2 MB document, and adversarial ones, in one pass per detector', () => {
    const paragraph = `${documents[0] ?? ''}\nThe committee met on 2024-01-15 and approved 1,234 items.\n`;
    const large = paragraph.repeat(Math.ceil(2_000_000 / paragraph.length));
    const started = performance.now();
    const { text, report } = redactText(large);
    console.info(
      `redacted ${large.length} characters in ${Math.round(performance.now() - started)} ms`,
    );
    expect(text).not.toContain('jane.doe@example.com');
    expect(report.countsByType.EMAIL).toBe(2 * Math.ceil(2_000_000 / paragraph.length));
    for (const adversarial of [
      'a'.repeat(500_000),
      '0 '.repeat(250_000),
      'a@'.repeat(250_000),
      'eyJ-'.repeat(125_000),
    ]) {
      expect(redactText(adversarial).report.total).toBe(0);
    }
  });
});

describe('containsPii', () => {
  it('says whether anything would be redacted', () => {
    expect(containsPii('ping jane.doe@example.com')).toBe(true);
    expect(containsPii(`token ${secrets.githubToken}`)).toBe(true);
    expect(containsPii(nearMisses.join('\n'))).toBe(false);
  });
});

describe('scrubForLog', () => {
  it('redacts strings anywhere in a JSON-like value and credential-named fields whole', () => {
    const input = {
      message: 'login by jane.doe@example.com',
      tags: ['ok', `card 4111 1111 1111 1111`],
      nested: { password: 'hunter2', accessToken: 'opaque', maxTokens: 1024, hasPassword: true },
      count: 3,
      missing: null,
    };
    expect(scrubForLog(input)).toEqual({
      message: 'login by [REDACTED:EMAIL]',
      tags: ['ok', 'card [REDACTED:PAYMENT_CARD]'],
      nested: {
        password: '[REDACTED:SECRET]',
        accessToken: '[REDACTED:SECRET]',
        maxTokens: 1024,
        hasPassword: true,
      },
      count: 3,
      missing: null,
    });
    expect(input.message).toBe('login by jane.doe@example.com');
  });

  it('turns errors into name and message, and cuts cycles', () => {
    const cyclic: Record<string, unknown> = {
      error: new Error('no route to jane.doe@example.com'),
    };
    cyclic.self = cyclic;
    expect(scrubForLog(cyclic)).toEqual({
      error: { name: 'Error', message: 'no route to [REDACTED:EMAIL]' },
      self: '[Circular]',
    });
    expect(scrubForLog('plain jane.doe@example.com')).toBe('plain [REDACTED:EMAIL]');
    expect(scrubForLog(42)).toBe(42);
  });
});
