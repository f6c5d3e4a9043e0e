// ESLint flat config: the recommended rules of ESLint and typescript-eslint over the whole repository.
// Not the type-aware set: it takes about a minute here and mostly flags JSON read as any.
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  // Generated files, output, and the shared tool and package folders.
  globalIgnores([
    'manifests/settings.validator.js',
    'jea/generated/',
    'build/',
    'dist/',
    'coverage/',
    'node_modules/',
    '.tools/',
    '.cache/',
  ]),
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    rules: {
      // `const { protectedSettings: _dropped, ...kept } = x` is how the code leaves a field out.
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true }],
      // The CLI loads these lazily with require() on purpose (see the comment at each call).
      '@typescript-eslint/no-require-imports': [
        'error',
        {
          allow: [
            '^@azure/identity$',
            '^@inquirer/confirm$',
            '^\\./run-invocation$',
            '^\\./connect/run-connect$',
            '^\\./ticket/run-ticket$',
          ],
        },
      ],
    },
  },
  {
    // The stand-ins and the tests read loose JSON (ARM resources, PowerShell output); shipped code may not.
    files: ['sim/**', 'test/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // The few plain CommonJS files: the bin launcher and jest's config.
    files: ['**/*.js'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: {
        require: 'readonly',
        module: 'writable',
        __dirname: 'readonly',
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
      },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
