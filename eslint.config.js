// Type-aware lint for the whole tree: typescript-eslint's recommended
// type-checked rules everywhere, with the exceptions below and their reasons.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

// Values read off the wire or out of JSON in tests and benchmarks are `any` by
// nature; the assertions that follow them are the type check there.
const anyFromTheWire = {
  '@typescript-eslint/no-unsafe-member-access': 'off',
  '@typescript-eslint/no-unsafe-assignment': 'off',
  '@typescript-eslint/no-unsafe-argument': 'off',
  '@typescript-eslint/no-unsafe-call': 'off',
  '@typescript-eslint/no-unsafe-return': 'off',
  '@typescript-eslint/no-explicit-any': 'off',
};

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'bench/results/', '.scratch/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['eslint.config.js', 'vitest.config.ts'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // An async method that fulfils a Promise-returning interface without awaiting
      // reads better than one that wraps its result in Promise.resolve.
      '@typescript-eslint/require-await': 'off',
      // Wire formats and terminal output escape control characters on purpose.
      'no-control-regex': 'off',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
    },
  },
  {
    files: ['test/**', 'bench/**'],
    rules: anyFromTheWire,
  },
  {
    // @xstate/graph's and xstate's generics cannot express a machine walked
    // with substituted actors, or a config read back from xstate's internals.
    files: ['src/conform/model/**', 'src/observe/machineConfig.ts'],
    rules: anyFromTheWire,
  },
  {
    // The console page is plain JavaScript for the browser, typed by JSDoc and
    // checked by its own tsconfig; gateway messages reach it as parsed JSON.
    files: ['src/console/page/**/*.js'],
    languageOptions: { globals: globals.browser },
    rules: anyFromTheWire,
  },
);
