import tseslint from 'typescript-eslint';
import { layersRule } from './tools/eslint/layers.js';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'native/**', 'tools/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    plugins: { berth: { rules: { layers: layersRule } } },
    rules: {
      'berth/layers': 'error',
      '@typescript-eslint/no-floating-promises': ['error', {
        allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite', 'before', 'after', 'beforeEach', 'afterEach'] }],
      }],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': ['error', {
        selector: "CallExpression[callee.object.name='process'][callee.property.name='exit']",
        message: 'process.exit belongs in entry points (main.ts) only',
      }],
    },
  },
  {
    // Only sys/ spawns processes or touches native code (DESIGN.md).
    files: ['src/**/*.ts'],
    ignores: ['src/sys/**'],
    rules: {
      'no-restricted-imports': ['error', { paths: [
        { name: 'node:child_process', message: 'spawn processes through src/sys only' },
        { name: 'child_process', message: 'spawn processes through src/sys only' },
      ] }],
    },
  },
  {
    files: ['src/**/main.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    rules: { 'no-restricted-syntax': 'off' },
  },
);
