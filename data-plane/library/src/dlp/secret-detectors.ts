import { Buffer } from 'node:buffer';
import { DETECTOR_PRIORITY, type PiiCandidate, type PiiDetector } from './pii-detector.ts';
import { regexCandidates, type RegexDetection } from './regex-candidates.ts';

const PEM_BEGIN = /-----BEGIN ([A-Z0-9 ]{0,40})PRIVATE KEY( BLOCK)?-----/g;
// Private keys, even RSA-8192 with headers, fit well within this.
const MAX_PEM_LENGTH = 16_384;

/**
 * PEM and PGP private key blocks, BEGIN line to END line. A block whose END line is missing
 * is redacted up to the first blank line after its body, or to the end of the text: a
 * truncated key is still a key.
 */
export const privateKeyDetector: PiiDetector = {
  name: 'private-key',
  *detect(text) {
    for (const begin of text.matchAll(PEM_BEGIN)) {
      const end = pemEnd(text, begin);
      yield {
        type: 'PRIVATE_KEY',
        start: begin.index,
        end,
        detector: 'private-key',
        priority: DETECTOR_PRIORITY.privateKey,
      };
    }
  },
};

function pemEnd(text: string, begin: RegExpExecArray): number {
  const bodyStart = begin.index + begin[0].length;
  const endMarker = `-----END ${begin[1] ?? ''}PRIVATE KEY${begin[2] ?? ''}-----`;
  const window = text.slice(bodyStart, bodyStart + MAX_PEM_LENGTH);
  const markerAt = window.indexOf(endMarker);
  if (markerAt >= 0) return bodyStart + markerAt + endMarker.length;
  const blankLine = /\S\r?\n[ \t]*\r?\n/.exec(window);
  return blankLine
    ? bodyStart + blankLine.index + 1
    : Math.min(text.length, bodyStart + MAX_PEM_LENGTH);
}

const token = DETECTOR_PRIORITY.token;

const tokenDetections: readonly RegexDetection[] = [
  {
    type: 'AWS_ACCESS_KEY_ID',
    detector: 'aws-access-key-id',
    priority: token,
    pattern: /(?<![A-Za-z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])/g,
  },
  {
    // A 40-character secret is only recognisable by the name it is assigned to.
    type: 'AWS_SECRET_ACCESS_KEY',
    detector: 'aws-secret-access-key',
    priority: DETECTOR_PRIORITY.contextualSecret,
    pattern:
      /(?<![A-Za-z0-9])(?:aws_?)?secret_?(?:access_?)?key["']?[ \t]{0,5}[:=][ \t]{0,5}["']?([A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])/dgi,
    groups: [1],
  },
  {
    type: 'GITHUB_TOKEN',
    detector: 'github-token',
    priority: token,
    pattern:
      /(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{36,251}|github_pat_[A-Za-z0-9_]{22,244})(?![A-Za-z0-9_])/g,
  },
  {
    type: 'STRIPE_KEY',
    detector: 'stripe-key',
    priority: token,
    pattern: /(?<![A-Za-z0-9_])(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{10,247}(?![A-Za-z0-9])/g,
  },
  {
    type: 'SLACK_TOKEN',
    detector: 'slack-token',
    priority: token,
    pattern: /(?<![A-Za-z0-9])xox[abprs]-[A-Za-z0-9-]{10,250}(?![A-Za-z0-9-])/g,
  },
  {
    type: 'GOOGLE_API_KEY',
    detector: 'google-api-key',
    priority: token,
    pattern: /(?<![A-Za-z0-9_-])AIza[A-Za-z0-9_-]{35}(?![A-Za-z0-9_-])/g,
  },
  {
    // Three base64url segments whose first decodes to a JSON header naming an algorithm.
    type: 'JWT',
    detector: 'jwt',
    priority: token,
    pattern:
      /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{5,4096}\.[A-Za-z0-9_-]{2,16384}\.[A-Za-z0-9_-]{0,4096}(?![A-Za-z0-9_-])/g,
    accept: (value) => hasJwtHeader(value),
  },
];

function hasJwtHeader(value: string): boolean {
  const header = value.slice(0, value.indexOf('.'));
  try {
    const parsed: unknown = JSON.parse(Buffer.from(header, 'base64url').toString('utf8'));
    return typeof parsed === 'object' && parsed !== null && 'alg' in parsed;
  } catch {
    return false;
  }
}

const SECRET_NAMES =
  'password|passwd|pwd|passphrase|secret|client[_-]?secret|secret[_-]?key|api[_-]?key|apikey|access[_-]?token|auth[_-]?token|refresh[_-]?token|private[_-]?key';

// `name = value`, `name: value`, `"name": "value"`, with an optional prefix (`db_password`).
// Only the value is redacted, so the text still says what was there.
const SECRET_ASSIGNMENT = new RegExp(
  `(?<![A-Za-z0-9])(?:[A-Za-z0-9]{1,30}[_.-])?(?:${SECRET_NAMES})["']?[ \\t]{0,5}[:=][ \\t]{0,5}` +
    `(?:"([^"\\r\\n]{1,256})"|'([^'\\r\\n]{1,256})'|([^\\s"',;]{4,256}))`,
  'dgi',
);

// Values that are references or placeholders, not secrets: `${DB_PASSWORD}`, `{{ token }}`,
// `<your-key>`, `****`, and what this module itself wrote.
const NOT_A_SECRET = /^(?:\$\{|\{\{|<|%\(|\[REDACTED|\*+$)/;

const secretAssignmentDetector: PiiDetector = {
  name: 'secret-assignment',
  detect: (text) =>
    regexCandidates(text, {
      type: 'SECRET',
      detector: 'secret-assignment',
      priority: DETECTOR_PRIORITY.secretAssignment,
      pattern: SECRET_ASSIGNMENT,
      groups: [1, 2, 3],
      accept: (value) => !NOT_A_SECRET.test(value),
    }),
};

/** Private keys, cloud and SaaS credentials, JWTs and `password=`-style assignments. */
export const secretDetectors: readonly PiiDetector[] = [
  privateKeyDetector,
  ...tokenDetections.map((detection) => ({
    name: detection.detector,
    detect: (text: string): Iterable<PiiCandidate> => regexCandidates(text, detection),
  })),
  secretAssignmentDetector,
];
