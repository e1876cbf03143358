// ESLint 10 flat config: typescript-eslint strict + stylistic, type-aware through the project service.
import { defineConfig } from 'eslint/config';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// The Node globals the plain .js/.mjs scripts use (the `globals` package is not a dependency).
const nodeGlobals = Object.fromEntries(
  [
    'process',
    'console',
    'Buffer',
    'URL',
    'setTimeout',
    'clearTimeout',
    'setInterval',
    'clearInterval',
    'setImmediate',
  ].map((g) => [g, 'readonly']),
);

export default defineConfig(
  { ignores: ['dist/**', 'coverage/**', 'node_modules/**', '.run/**'] },
  js.configs.recommended,
  tseslint.configs.strictTypeChecked,
  tseslint.configs.stylisticTypeChecked,
  {
    languageOptions: {
      globals: nodeGlobals,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // Ports, counts and durations go into log lines and URLs all the time.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      // `void x` is the explicit marker for a deliberately ignored value: `void promise` (fire-and-forget,
      // see no-floating-promises below), `return void res.end()` and `() => void (flag = false)`.
      // Arrow shorthands returning void (`(c) => chunks.push(c)`) and `if (next) return next();` inside
      // a function that itself returns void (the Connect/Node callback idiom) are fine too.
      '@typescript-eslint/no-confusing-void-expression': [
        'error',
        { ignoreArrowShorthand: true, ignoreVoidOperator: true, ignoreVoidReturningFunctions: true },
      ],
      // Keep promise handling strict: a lost rejection in a proxy is a crashed process or a hung client.
      '@typescript-eslint/no-floating-promises': ['error', { ignoreVoid: true }],
      '@typescript-eslint/no-misused-promises': 'error',
      // Unused `_name` parameters are how Connect signatures (req, res, next) are spelled.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      // With noUncheckedIndexedAccess, `list[i]!` after a bounds check is clearer than a second check.
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    // Tests: node:test's describe()/it() return promises that the runner awaits itself.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          ignoreVoid: true,
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    extends: [tseslint.configs.disableTypeChecked],
  },
);
