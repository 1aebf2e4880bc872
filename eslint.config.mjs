// @ts-check
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'data/**', 'coverage/**', 'web/dist/**', 'bench/results/**', 'test-artifacts/**', '**/*.js', '**/*.mjs'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': [
        'error',
        { selector: "CallExpression[callee.object.name=/^(it|describe|test)$/][callee.property.name='only']", message: 'No committed .only' },
      ],
    },
  },
  // One door per store. Only a `*.gateway.ts` (and src/redis/) holds the Redis client; everything else
  // asks a gateway. Specs may fake a client.
  {
    files: ['src/**/*.ts'],
    ignores: ['src/redis/**', 'src/**/*.gateway.ts', 'src/**/*.spec.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'ioredis', message: 'Only *.gateway.ts files and src/redis/ touch Redis: add a method to the feature\'s gateway.' }],
          patterns: [
            {
              regex: '(^|/)redis\\.constants$',
              importNames: ['REDIS_CLIENT', 'REDIS_SUBSCRIBER'],
              message: 'Only *.gateway.ts files and src/redis/ touch Redis: add a method to the feature\'s gateway.',
            },
          ],
        },
      ],
    },
  },
  // Only a `*.repository.ts` (and src/database/, and the entities themselves) holds the database manager or
  // reads another feature's table. A type-only import is allowed: a service may name the row type a
  // repository returns, or the transaction manager it hands from DatabaseService.transaction to a
  // repository, without being able to query with it.
  {
    files: ['src/**/*.ts'],
    ignores: ['src/database/**', 'src/**/*.repository.ts', 'src/**/*.entity.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'typeorm', allowTypeImports: true, message: 'Only *.repository.ts files and src/database/ use TypeORM: add a method to the feature\'s repository.' },
            { name: '@nestjs/typeorm', allowTypeImports: true, message: 'Only *.repository.ts files and src/database/ use TypeORM: add a method to the feature\'s repository.' },
          ],
          patterns: [
            {
              regex: '^(\\.\\./)+[^./][^/]*/(.+/)?[^/]+\\.entity$',
              allowTypeImports: true,
              message: "Another feature's table is read through that feature's repository (a type-only import of its entity is allowed).",
            },
          ],
        },
      ],
      'no-restricted-syntax': [
        'error',
        { selector: "CallExpression[callee.object.name=/^(it|describe|test)$/][callee.property.name='only']", message: 'No committed .only' },
        {
          selector: ":matches(MemberExpression[object.property.name='database'][property.name=/^(manager|dataSource)$/], VariableDeclarator[init.property.name='database'] > ObjectPattern > Property[key.name=/^(manager|dataSource)$/])",
          message: "Only *.repository.ts files query the database: add a method to the feature's repository (services only open transactions with DatabaseService.transaction).",
        },
      ],
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/config/**'],
    rules: {
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'Read configuration through AppConfig (src/config/).' }],
    },
  },
);
