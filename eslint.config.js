// Flat ESLint config for the whole workspace. The rules follow STYLE.md: small functions
// (complexity, max-params, max-depth, as Pepr does), named exports only, strict type-aware
// checks. Formatting belongs to Prettier, so eslint-config-prettier comes last.
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import prettierConfig from 'eslint-config-prettier/flat';
import tseslint from 'typescript-eslint';

/** Named exports only (STYLE.md §8); `import/no-default-export` is not installed, so say it here. */
const noDefaultExport = {
  selector: 'ExportDefaultDeclaration',
  message: 'Use named exports (STYLE.md: named exports only).',
};

export const eslintConfig = defineConfig(
  globalIgnores([
    '**/node_modules/',
    '**/dist/',
    '**/coverage/',
    '**/.citadel/',
    '**/generated/',
    'control-plane/src/generated/**',
    'bench-results/',
  ]),
  js.configs.recommended,
  tseslint.configs.strictTypeChecked,
  tseslint.configs.stylisticTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      complexity: ['warn', 10],
      'max-params': ['error', 4],
      'max-depth': ['error', 3],
      'no-restricted-syntax': ['error', noDefaultExport],
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      // `T[]` for simple element types, `Array<…>` where the element is an object literal or union.
      '@typescript-eslint/array-type': ['error', { default: 'array-simple' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      // `onDone: (value) => resolve(value)` is idiomatic; braces there add noise, not safety.
      '@typescript-eslint/no-confusing-void-expression': ['error', { ignoreArrowShorthand: true }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
    },
  },
  {
    // Tool configs (vite, vitest, playwright, prisma…) are loaded by tools that expect a
    // default export.
    files: ['**/*.config.*'],
    rules: { 'no-restricted-syntax': 'off' },
  },
  {
    // Plain JavaScript (launchers such as packages/cli/bin/citadel.js, this file) is outside
    // the TypeScript program: lint it without type information.
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: {
      // The few Node globals such launchers use (the `globals` package is not a dependency).
      globals: {
        process: 'readonly',
        console: 'readonly',
        URL: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
      },
    },
  },
  prettierConfig,
);

// ESLint loads the config through the default export; this is the one allowed exception
// (see the *.config.* override above).
export default eslintConfig;
