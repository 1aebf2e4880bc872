import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

describe('src/contract', () => {
  // web/ bundles these files for the browser and the load tests type-check against them: an import of a
  // server package (Nest, TypeORM, ioredis) or a Node built-in would break both.
  it('imports nothing but its own files', () => {
    const files = readdirSync(__dirname).filter((file) => file.endsWith('.ts') && !file.endsWith('.spec.ts'));
    expect(files.length).toBeGreaterThan(0);
    const foreign = files.flatMap((file) =>
      [...readFileSync(join(__dirname, file), 'utf8').matchAll(/\bfrom\s+'([^']+)'/g)].map((match) => match[1]).filter((source) => !source.startsWith('./')).map((source) => `${file}: ${source}`),
    );
    expect(foreign).toEqual([]);
  });
});
