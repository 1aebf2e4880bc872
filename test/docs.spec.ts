import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode } from '../src/common/errors/error-code';

const root = join(__dirname, '..');
const read = (file: string) => readFileSync(join(root, file), 'utf8');

/** Variables the configuration loader reads, taken from its source so the list cannot drift. */
function configVariables(): string[] {
  const source = read('src/config/app-config.ts');
  return [...new Set([...source.matchAll(/read\.(?:string|integer|boolean|oneOf|raw)\('([A-Z_]+)'/g)].map((match) => match[1]))].sort();
}

describe('Documentation matches the code', () => {
  it('finds the configuration variables', () => {
    expect(configVariables()).toEqual(expect.arrayContaining(['PORT', 'REDIS_URL', 'DATABASE_URL', 'JWT_SECRET', 'AUTH_DEV_TOKENS']));
  });

  it.each(configVariables())('documents %s in the README configuration table and in .env.example', (variable) => {
    expect(read('README.md')).toContain(`\`${variable}\``);
    expect(read('.env.example')).toMatch(new RegExp(`^#? ?${variable}=`, 'm'));
  });

  it.each(Object.values(ErrorCode))('lists error code %s in the README', (code) => {
    expect(read('README.md')).toContain(`\`${code}\``);
  });
});
