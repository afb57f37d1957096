// ESLint flat config: TypeScript sources with typescript-eslint's recommended rules, plain JS
// (build scripts, this file) with ESLint's. The editor code (nodes/*/editor/, nodes/shared/editor/)
// runs in the browser, with Node-RED's RED and jQuery's $ as globals.
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig([
  globalIgnores(['dist/', 'node_modules/', '.fabric/', '.demo/', 'test/artifacts/', 'coverage/']),
  {
    files: ['**/*.{js,mjs,cjs}'],
    extends: [js.configs.recommended],
    languageOptions: { globals: { ...globals.node } },
  },
  {
    files: ['**/*.{js,cjs}'],
    languageOptions: { sourceType: 'commonjs' },
  },
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommended],
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // Node-RED's idiom: `const node = this` inside a node's constructor function.
      '@typescript-eslint/no-this-alias': ['error', { allowedNames: ['node'] }],
      // `import x = require()` is how TS imports a module that uses `export =` (Node-RED nodes);
      // the test helper ships no type declarations, so it is required and typed by hand.
      '@typescript-eslint/no-require-imports': ['error', { allowAsImport: true, allow: ['^node-red-node-test-helper$'] }],
    },
  },
  {
    files: ['nodes/*/editor/**/*.ts', 'nodes/shared/editor/**/*.ts'],
    languageOptions: { globals: { ...globals.browser, ...globals.jquery, RED: 'readonly' } },
  },
]);
