// ESLint flat config: typescript-eslint's recommended rules for the whole repository.
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      'tests/.generated/**',
      'bench/.generated/**',
      'storybook-static/**',
      'data/**',
      'coverage/**',
    ],
  },
  tseslint.configs.recommended,
  {
    rules: {
      // `_`-prefixed names are deliberately unused (rest-sibling omission, interface-shaped params).
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
    },
  },
);
