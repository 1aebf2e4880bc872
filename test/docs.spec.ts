import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode, httpStatusOf } from '../src/contract/error-code';
import { createTestApp, TestApp } from './support/test-app';

const root = join(__dirname, '..');
const read = (file: string) => readFileSync(join(root, file), 'utf8');

/** Variables the configuration loader reads, taken from its source so the list cannot drift. */
function configVariables(): string[] {
  const source = read('src/config/app-config.ts');
  return [...new Set([...source.matchAll(/read\.(?:string|integer|boolean|oneOf|raw)\('([A-Z_]+)'/g)].map((match) => match[1]))].sort();
}

/** `METHOD /path` of every route heading of docs/api.md (`#### \`GET /api/sales/:saleId\``), path parameters as OpenAPI writes them. */
function documentedRoutes(apiDoc: string): string[] {
  return [...apiDoc.matchAll(/^#### `(GET|POST|PUT|PATCH|DELETE) (\/\S*)`$/gm)].map((match) => `${match[1]} ${match[2].replace(/:(\w+)/g, '{$1}')}`).sort();
}

/** Code → status of each row of docs/api.md's error table (`| \`SOLD_OUT\` | 409 | … |`). */
function documentedCodes(apiDoc: string): Record<string, number> {
  return Object.fromEntries([...apiDoc.matchAll(/^\| `([A-Z_]+)` \| (\d{3}) \|/gm)].map((match) => [match[1], Number(match[2])]));
}

/** Field names of each table under docs/api.md's "## Shapes" (`#### Name`, then `| \`field\` | … |` rows). */
function documentedShapes(apiDoc: string): Record<string, string[]> {
  const shapes = apiDoc.slice(apiDoc.indexOf('\n## Shapes'));
  return Object.fromEntries(
    shapes
      .split(/^#### /m)
      .slice(1)
      .map((section) => [section.slice(0, section.indexOf('\n')).trim(), [...section.matchAll(/^\| `(\w+)` \|/gm)].map((match) => match[1]).sort()]),
  );
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

  describe('docs/api.md', () => {
    let app: TestApp;
    let openApiRoutes: string[];
    let schemas: Record<string, { properties?: Record<string, unknown> }>;
    beforeAll(async () => {
      app = await createTestApp();
      const document = (await app.request<{ paths: Record<string, Record<string, unknown>>; components: { schemas: typeof schemas } }>('GET', '/docs-json')).body;
      schemas = document.components.schemas;
      openApiRoutes = Object.entries(document.paths)
        .flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`))
        .sort();
    });
    afterAll(() => app?.app.close());

    it('documents every route of the OpenAPI document, and no other', () => {
      expect(openApiRoutes.length).toBeGreaterThan(20);
      expect(documentedRoutes(read('docs/api.md'))).toEqual(openApiRoutes);
    });

    it('lists every error code with its status, and no other', () => {
      const expected = Object.fromEntries(Object.values(ErrorCode).map((code) => [code, httpStatusOf(code)]));
      expect(documentedCodes(read('docs/api.md'))).toEqual(expected);
    });

    it('lists every field of each shape it documents, as the OpenAPI document has them', () => {
      const documented = documentedShapes(read('docs/api.md'));
      expect(Object.keys(documented).length).toBeGreaterThan(20);
      const fromCode = Object.fromEntries(Object.keys(documented).map((name) => [name, Object.keys(schemas[name]?.properties ?? {}).sort()]));
      expect(documented).toEqual(fromCode);
    });

    it('reads routes and codes the way they are written', () => {
      const sample = '#### `GET /api/sales/:saleId`\n#### `POST /api/orders/:orderId/pay`\n| `SOLD_OUT` | 409 | no stock |\n';
      expect(documentedRoutes(sample)).toEqual(['GET /api/sales/{saleId}', 'POST /api/orders/{orderId}/pay']);
      expect(documentedCodes(sample)).toEqual({ SOLD_OUT: 409 });
      expect(documentedShapes(`## Routes\n#### \`GET /x\`\n| \`a\` | … |\n## Shapes\n#### ADto\n\n| \`b\` | number |\n| \`a\` | string |\n#### BDto\n`)).toEqual({ ADto: ['a', 'b'], BDto: [] });
    });
  });

  it.each(['docs/api.md', 'docs/architecture.md'])('links %s from the README', (file) => {
    expect(read('README.md')).toContain(`](${file})`);
  });

  it('cites no file the repository does not have', () => {
    const cited = ['README.md', 'docs/api.md', 'docs/architecture.md'].flatMap((file) => [...read(file).matchAll(/\]\(([^)#]+)\)/g)].map((match) => match[1]).filter((target) => !/^https?:/.test(target)).map((target) => join(file, '..', target)));
    for (const file of cited) expect(() => readFileSync(join(root, file))).not.toThrow();
  });
});
