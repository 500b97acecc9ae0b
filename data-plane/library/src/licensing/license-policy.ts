import { LicenseError } from './license-error.ts';
import {
  canonicalLicenseId,
  type LicenseNode,
  type LicenseTerm,
  type ParsedLicense,
  tryParseLicense,
  render,
} from './parse-license.ts';

/**
 * Licence patterns a purpose accepts or refuses. A pattern is an SPDX identifier
 * (`MIT`), a `LicenseRef-…`, `NONE` or `NOASSERTION`, a prefix ending in `*`
 * (`BSD-*`, `LicenseRef-acme-*`, `*`), or any of those with an exception
 * (`GPL-2.0-only WITH Classpath-exception-2.0`). Matching ignores case.
 */
export interface LicenseRules {
  /** Absent: every licence not denied is allowed. Present: only these are. */
  allow?: readonly string[];
  deny?: readonly string[];
}

/** A tenant's licence policy: what may be ingested, and what may be used for training. */
export interface LicensePolicy {
  ingest: LicenseRules;
  training: LicenseRules;
}

export interface LicenseDecision {
  ingestAllowed: boolean;
  trainingAllowed: boolean;
  /** Why, one line per licence that decided, prefixed by the purpose. */
  reasons: string[];
  /** The `WITH` exceptions of the expression, which travel with the document. */
  exceptions: string[];
}

/**
 * Licences that allow reuse, including training, with attribution at most: the
 * permissive software licences, public-domain dedications, CC BY and the permissive data
 * licences. Copyleft (GPL, LGPL, MPL, CC BY-SA), non-commercial (CC BY-NC-*), no-derivatives
 * (CC BY-ND-*) and proprietary licences are not in it.
 */
export const PERMISSIVE_LICENSES: readonly string[] = [
  '0BSD',
  'Apache-2.0',
  'BSD-2-Clause',
  'BSD-3-Clause',
  'BSL-1.0',
  'CC-BY-3.0',
  'CC-BY-4.0',
  'CC0-1.0',
  'CDLA-Permissive-1.0',
  'CDLA-Permissive-2.0',
  'ISC',
  'MIT',
  'MIT-0',
  'NCSA',
  'PostgreSQL',
  'PSF-2.0',
  'Python-2.0',
  'Unlicense',
  'UPL-1.0',
  'X11',
  'Zlib',
];

/**
 * The policy of a tenant that set none: ingest any valid licence statement except `NONE`
 * (all rights reserved) and `NOASSERTION` (nobody knows) — a library that cites its
 * sources must know under what terms it holds them; tenants' own documents take a
 * `LicenseRef-…`. Train only on permissive licences.
 */
export const DEFAULT_LICENSE_POLICY: LicensePolicy = {
  ingest: { deny: ['NONE', 'NOASSERTION'] },
  training: { allow: PERMISSIVE_LICENSES },
};

interface Verdict {
  allowed: boolean;
  reasons: string[];
}

/**
 * Decides what a licence permits under a policy. An `OR` expression is allowed when one of
 * its alternatives is (the licensee may choose), an `AND` when all its parts are. For one
 * licence, a pattern naming its exception outranks one that does not, and at the same rank
 * deny beats allow: `deny: ['GPL-*']` with
 * `allow: ['GPL-2.0-only WITH Classpath-exception-2.0']` admits only the latter. An invalid
 * expression is allowed nothing.
 */
export function evaluateLicensePolicy(
  license: string | ParsedLicense,
  policy: LicensePolicy = DEFAULT_LICENSE_POLICY,
): LicenseDecision {
  const parsed =
    typeof license === 'string' ? tryParseLicense(license) : { ok: true as const, license };
  if (!parsed.ok) {
    return {
      ingestAllowed: false,
      trainingAllowed: false,
      reasons: [parsed.error.message],
      exceptions: [],
    };
  }
  const tree = treeOf(parsed.license);
  const ingest = evaluateNode(tree, compileRules(policy.ingest));
  const training = evaluateNode(tree, compileRules(policy.training));
  return {
    ingestAllowed: ingest.allowed,
    trainingAllowed: training.allowed,
    reasons: [
      ...ingest.reasons.map((reason) => `ingest: ${reason}`),
      ...training.reasons.map((reason) => `training: ${reason}`),
    ],
    exceptions: parsed.license.kind === 'expression' ? parsed.license.exceptions : [],
  };
}

function treeOf(license: ParsedLicense): LicenseNode {
  return license.kind === 'expression'
    ? license.tree
    : { license: license.expression, orLater: false };
}

function evaluateNode(node: LicenseNode, rules: CompiledRules): Verdict {
  if (!('conjunction' in node)) return evaluateTerm(node, rules);
  const left = evaluateNode(node.left, rules);
  const right = evaluateNode(node.right, rules);
  if (node.conjunction === 'OR') {
    const chosen = [left, right].filter((verdict) => verdict.allowed);
    if (chosen.length > 0)
      return { allowed: true, reasons: chosen.flatMap((verdict) => verdict.reasons) };
    return { allowed: false, reasons: [...left.reasons, ...right.reasons] };
  }
  const refused = [left, right].filter((verdict) => !verdict.allowed);
  if (refused.length > 0)
    return { allowed: false, reasons: refused.flatMap((verdict) => verdict.reasons) };
  return { allowed: true, reasons: [...left.reasons, ...right.reasons] };
}

function evaluateTerm(term: LicenseTerm, rules: CompiledRules): Verdict {
  const name = render(term);
  const decide = (allowed: boolean, why: string): Verdict => ({
    allowed,
    reasons: [`${name} is ${allowed ? 'allowed' : 'refused'}: ${why}`],
  });
  const specificDeny = findRule(rules.deny, term, true);
  if (specificDeny) return decide(false, `denied by "${specificDeny.source}"`);
  const specificAllow = findRule(rules.allow ?? [], term, true);
  if (specificAllow) return decide(true, `allowed by "${specificAllow.source}"`);
  const deny = findRule(rules.deny, term, false);
  if (deny) return decide(false, `denied by "${deny.source}"`);
  if (!rules.allow) return decide(true, 'not denied');
  const allow = findRule(rules.allow, term, false);
  return allow
    ? decide(true, `allowed by "${allow.source}"`)
    : decide(false, 'not on the allow list');
}

interface CompiledRule {
  source: string;
  /** Lower case; ends in `*` for a prefix. */
  license: string;
  exception?: string;
}

interface CompiledRules {
  allow?: CompiledRule[];
  deny: CompiledRule[];
}

function compileRules(rules: LicenseRules): CompiledRules {
  const compiled: CompiledRules = { deny: (rules.deny ?? []).map(compileRule) };
  if (rules.allow) compiled.allow = rules.allow.map(compileRule);
  return compiled;
}

function compileRule(source: string): CompiledRule {
  const [license = '', exception] = source.trim().split(/\s+WITH\s+/);
  const rule: CompiledRule = { source, license: license.toLowerCase() };
  if (exception !== undefined) rule.exception = exception.toLowerCase();
  return rule;
}

function findRule(
  rules: readonly CompiledRule[],
  term: LicenseTerm,
  withException: boolean,
): CompiledRule | undefined {
  const exception = term.exception?.toLowerCase();
  return rules.find(
    (rule) =>
      (withException
        ? rule.exception !== undefined && rule.exception === exception
        : rule.exception === undefined) && licenseMatches(rule.license, term),
  );
}

function licenseMatches(pattern: string, term: LicenseTerm): boolean {
  const license = term.license.toLowerCase();
  const candidates = term.orLater ? [license, `${license}+`] : [license];
  return candidates.some((candidate) =>
    pattern.endsWith('*') ? candidate.startsWith(pattern.slice(0, -1)) : candidate === pattern,
  );
}

/**
 * Checks a policy a tenant submits: every pattern must be a known SPDX identifier, a
 * `LicenseRef-…`, `NONE`, `NOASSERTION` or a prefix ending in `*`, optionally with
 * `WITH <exception>`. Throws a `LicenseError` with code `invalid_policy` naming the first
 * pattern that is not.
 */
export function assertLicensePolicy(policy: LicensePolicy): void {
  const entries = (['ingest', 'training'] as const).flatMap((purpose) =>
    (['allow', 'deny'] as const).flatMap((list) =>
      (policy[purpose][list] ?? []).map((pattern) => ({ purpose, list, pattern })),
    ),
  );
  const invalid = entries.find((entry) => !isValidPattern(entry.pattern));
  if (invalid) {
    throw new LicenseError(
      'invalid_policy',
      `${invalid.purpose}.${invalid.list}: "${invalid.pattern}" is not an SPDX licence identifier, LicenseRef-…, NONE, NOASSERTION or prefix*`,
      { ...invalid },
    );
  }
}

function isValidPattern(pattern: string): boolean {
  const [license = '', exception, extra] = pattern.trim().split(/\s+WITH\s+/);
  if (extra !== undefined || exception === '' || license === '') return false;
  if (license.endsWith('*') || license === 'NONE' || license === 'NOASSERTION') return true;
  if (/^(?:DocumentRef-[A-Za-z0-9.-]+:)?LicenseRef-[A-Za-z0-9.-]+$/.test(license)) return true;
  return canonicalLicenseId(license.replace(/\+$/, '')) !== undefined;
}
