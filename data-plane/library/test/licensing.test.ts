import { describe, expect, it } from 'vitest';
import {
  assertLicensePolicy,
  canonicalLicenseId,
  DEFAULT_LICENSE_POLICY,
  evaluateLicensePolicy,
  LicenseError,
  type LicensePolicy,
  type ParsedLicense,
  parseLicense,
  PERMISSIVE_LICENSES,
  tryParseLicense,
} from '../src/licensing/index.ts';

function parsed(expression: string): ParsedLicense {
  return parseLicense(expression);
}

function parsedExpression(expression: string): Extract<ParsedLicense, { kind: 'expression' }> {
  const license = parseLicense(expression);
  if (license.kind !== 'expression') throw new Error(`${expression} is ${license.kind}`);
  return license;
}

function parseError(expression: string): LicenseError {
  const result = tryParseLicense(expression);
  if (result.ok) throw new Error(`${expression} parsed`);
  return result.error;
}

describe('parseLicense', () => {
  it('parses identifiers, conjunctions with SPDX precedence, WITH and LicenseRef', () => {
    expect(parsed('MIT')).toEqual({
      kind: 'expression',
      expression: 'MIT',
      tree: { license: 'MIT', orLater: false },
      licenses: ['MIT'],
      exceptions: [],
    });
    // AND binds tighter than OR.
    expect(parsed('MIT OR Apache-2.0 AND BSD-3-Clause').expression).toBe(
      'MIT OR (Apache-2.0 AND BSD-3-Clause)',
    );
    expect(parsed('(MIT OR Apache-2.0) AND BSD-3-Clause').expression).toBe(
      '(MIT OR Apache-2.0) AND BSD-3-Clause',
    );
    const withException = parsed('GPL-2.0-or-later WITH Classpath-exception-2.0');
    expect(withException).toMatchObject({
      tree: { license: 'GPL-2.0-or-later', exception: 'Classpath-exception-2.0' },
      exceptions: ['Classpath-exception-2.0'],
    });
    expect(parsedExpression('LicenseRef-acme-eula AND CC-BY-4.0').licenses).toEqual([
      'LicenseRef-acme-eula',
      'CC-BY-4.0',
    ]);
    expect(parsedExpression('DocumentRef-spdx-tool-1.2:LicenseRef-internal').licenses).toEqual([
      'DocumentRef-spdx-tool-1.2:LicenseRef-internal',
    ]);
    expect(parsedExpression('GPL-2.0+').tree).toEqual({ license: 'GPL-2.0', orLater: true });
  });

  it('matches identifiers case-insensitively and returns them canonical', () => {
    expect(parsed('apache-2.0 OR mit').expression).toBe('Apache-2.0 OR MIT');
    expect(canonicalLicenseId('bsd-3-clause')).toBe('BSD-3-Clause');
    expect(canonicalLicenseId('not-a-licence')).toBeUndefined();
  });

  it('accepts NONE and NOASSERTION as whole statements', () => {
    expect(parsed('NONE')).toEqual({ kind: 'none', expression: 'NONE' });
    expect(parsed(' NOASSERTION ')).toEqual({ kind: 'noassertion', expression: 'NOASSERTION' });
  });

  it('throws the typed error from parseLicense', () => {
    expect(() => parseLicense('Foo-1.0')).toThrow(LicenseError);
    expect(tryParseLicense('MIT')).toEqual({ ok: true, license: parsed('MIT') });
  });

  it('gives a typed error naming what is wrong', () => {
    const unknown = parseError('MIT OR Foo-1.0');
    expect(unknown).toBeInstanceOf(LicenseError);
    expect(unknown.code).toBe('invalid_license');
    expect(unknown.message).toContain('"Foo-1.0" is not an SPDX licence identifier');
    expect(parseError('MIT and Apache-2.0').message).toContain(
      '"and" must be written in upper case',
    );
    expect(parseError('').message).toContain('empty');
    expect(parseError('MIT OR').message).toContain('ends where a licence');
    expect(parseError('(MIT').message).toContain('is not a valid SPDX licence expression');
    expect(parseError('MIT WITH Not-An-Exception').message).toContain('offset 9');
    expect(parseError('NONE OR MIT').code).toBe('invalid_license');
  });
});

describe('evaluateLicensePolicy with the default policy', () => {
  it('ingests and trains on permissive licences', () => {
    for (const license of ['MIT', 'Apache-2.0', 'BSD-3-Clause', 'CC0-1.0', 'CC-BY-4.0']) {
      expect(evaluateLicensePolicy(license)).toMatchObject({
        ingestAllowed: true,
        trainingAllowed: true,
      });
    }
  });

  it('ingests but does not train on copyleft, non-commercial and proprietary licences', () => {
    for (const license of [
      'GPL-3.0-only',
      'CC-BY-SA-4.0',
      'CC-BY-NC-4.0',
      'LicenseRef-acme-eula',
    ]) {
      const decision = evaluateLicensePolicy(license);
      expect(decision, license).toMatchObject({ ingestAllowed: true, trainingAllowed: false });
      expect(decision.reasons).toContain(`training: ${license} is refused: not on the allow list`);
    }
  });

  it('refuses NONE and NOASSERTION, and invalid expressions', () => {
    expect(evaluateLicensePolicy('NONE')).toMatchObject({
      ingestAllowed: false,
      trainingAllowed: false,
    });
    expect(evaluateLicensePolicy('NOASSERTION').reasons).toContain(
      'ingest: NOASSERTION is refused: denied by "NOASSERTION"',
    );
    const invalid = evaluateLicensePolicy('Foo-1.0');
    expect(invalid).toMatchObject({ ingestAllowed: false, trainingAllowed: false });
    expect(invalid.reasons[0]).toContain('Foo-1.0');
  });

  it('allows OR when an alternative is allowed, AND only when all parts are', () => {
    expect(evaluateLicensePolicy('GPL-3.0-only OR MIT')).toMatchObject({ trainingAllowed: true });
    expect(evaluateLicensePolicy('GPL-3.0-only OR MIT').reasons).toContain(
      'training: MIT is allowed: allowed by "MIT"',
    );
    const both = evaluateLicensePolicy('MIT AND GPL-3.0-only');
    expect(both).toMatchObject({ ingestAllowed: true, trainingAllowed: false });
    expect(both.reasons).toEqual([
      'ingest: MIT is allowed: not denied',
      'ingest: GPL-3.0-only is allowed: not denied',
      'training: GPL-3.0-only is refused: not on the allow list',
    ]);
    expect(evaluateLicensePolicy('(GPL-3.0-only OR MIT) AND Apache-2.0').trainingAllowed).toBe(
      true,
    );
  });

  it('carries WITH exceptions', () => {
    const decision = evaluateLicensePolicy('GPL-2.0-only WITH Classpath-exception-2.0');
    expect(decision.exceptions).toEqual(['Classpath-exception-2.0']);
    expect(decision.trainingAllowed).toBe(false);
  });

  it('lists only valid SPDX identifiers as permissive', () => {
    for (const id of PERMISSIVE_LICENSES) expect(canonicalLicenseId(id)).toBe(id);
    expect(() => assertLicensePolicy(DEFAULT_LICENSE_POLICY)).not.toThrow();
  });
});

describe('evaluateLicensePolicy with a tenant policy', () => {
  const policy: LicensePolicy = {
    ingest: { deny: ['AGPL-*', 'NONE', 'NOASSERTION'] },
    training: {
      allow: ['MIT', 'BSD-*', 'GPL-2.0-only WITH Classpath-exception-2.0', 'LicenseRef-acme-*'],
      deny: ['GPL-*', 'BSD-4-Clause'],
    },
  };

  it('matches prefixes and ignores case', () => {
    expect(evaluateLicensePolicy('AGPL-3.0-or-later', policy).ingestAllowed).toBe(false);
    expect(evaluateLicensePolicy('BSD-2-Clause', policy).trainingAllowed).toBe(true);
    expect(evaluateLicensePolicy('LicenseRef-ACME-handbook', policy).trainingAllowed).toBe(true);
  });

  it('lets deny beat allow at the same rank, and an exception rule outrank both', () => {
    expect(evaluateLicensePolicy('BSD-4-Clause', policy).reasons).toContain(
      'training: BSD-4-Clause is refused: denied by "BSD-4-Clause"',
    );
    expect(evaluateLicensePolicy('GPL-2.0-only', policy).trainingAllowed).toBe(false);
    expect(
      evaluateLicensePolicy('GPL-2.0-only WITH Classpath-exception-2.0', policy).trainingAllowed,
    ).toBe(true);
  });

  it('treats a missing allow list as allow-all and an empty one as allow-none', () => {
    expect(evaluateLicensePolicy('MIT', { ingest: {}, training: { allow: [] } })).toMatchObject({
      ingestAllowed: true,
      trainingAllowed: false,
    });
    expect(evaluateLicensePolicy('NONE', { ingest: {}, training: {} }).ingestAllowed).toBe(true);
  });

  it('matches an or-later licence by its base identifier or with the plus', () => {
    const plus: LicensePolicy = { ingest: {}, training: { allow: ['LGPL-2.1+'] } };
    expect(evaluateLicensePolicy('LGPL-2.1+', plus).trainingAllowed).toBe(true);
    expect(evaluateLicensePolicy('LGPL-2.1', plus).trainingAllowed).toBe(false);
    const base: LicensePolicy = { ingest: {}, training: { allow: ['LGPL-2.1'] } };
    expect(evaluateLicensePolicy('LGPL-2.1+', base).trainingAllowed).toBe(true);
  });

  it('accepts a parsed licence as well as an expression', () => {
    expect(evaluateLicensePolicy(parsed('MIT'), policy).trainingAllowed).toBe(true);
  });
});

describe('assertLicensePolicy', () => {
  it('accepts identifiers, references, prefixes and exceptions', () => {
    expect(() =>
      assertLicensePolicy(
        policyWith([
          'MIT',
          'LicenseRef-x',
          'BSD-*',
          'GPL-2.0-only WITH Classpath-exception-2.0',
          'GPL-2.0+',
        ]),
      ),
    ).not.toThrow();
  });

  it('names the first pattern that is not valid', () => {
    try {
      assertLicensePolicy(policyWith(['MIT', 'Foo-1.0']));
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(LicenseError);
      expect(error).toMatchObject({ code: 'invalid_policy', details: { pattern: 'Foo-1.0' } });
      expect((error as LicenseError).message).toContain('training.allow: "Foo-1.0"');
    }
  });
});

function policyWith(allow: string[]): LicensePolicy {
  return { ingest: {}, training: { allow } };
}
