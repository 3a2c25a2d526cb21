/** Cases (联办) against a real PostgreSQL server (a throwaway cluster, as server.postgres.test.ts). */
import { afterAll, beforeAll, describe, it } from 'vitest';
import { postgresAvailable, startPostgres, type PgCluster } from './test/harness';
import { defineCasesSuite } from './test/cases-suite';

const available = postgresAvailable();
let cluster: PgCluster | undefined;
let n = 0;

if (!available && process.env.SIDIAN_REQUIRE_POSTGRES === '1') {
  describe('cases on PostgreSQL', () => {
    it('needs PostgreSQL installed (apt-get install -y postgresql)', () => {
      throw new Error('PostgreSQL binaries not found');
    });
  });
}

describe.skipIf(!available)('cases on PostgreSQL', { timeout: 120_000 }, () => {
  beforeAll(async () => {
    cluster = await startPostgres();
  });
  afterAll(async () => {
    await cluster?.stop();
  });
  defineCasesSuite({
    newDatabaseUrl: async () => cluster!.createDatabase(`sidian_cases_${process.pid}_${++n}`),
  });
});
