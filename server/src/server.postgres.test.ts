/**
 * The same server suite against a real PostgreSQL server: a throwaway cluster (initdb + pg_ctl on
 * loopback, as the postgres user when run as root). Skipped only when PostgreSQL is not installed,
 * unless SIDIAN_REQUIRE_POSTGRES=1.
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import { postgresAvailable, startPostgres, type PgCluster } from './test/harness';
import { defineServerSuite } from './test/suite';

const available = postgresAvailable();
let cluster: PgCluster | undefined;
let n = 0;

if (!available && process.env.SIDIAN_REQUIRE_POSTGRES === '1') {
  describe('server on PostgreSQL', () => {
    it('needs PostgreSQL installed (apt-get install -y postgresql)', () => {
      throw new Error('PostgreSQL binaries not found');
    });
  });
}

describe.skipIf(!available)('server on PostgreSQL', () => {
  beforeAll(async () => {
    cluster = await startPostgres();
  });
  afterAll(async () => {
    await cluster?.stop();
  });
  defineServerSuite({ newDatabaseUrl: async () => cluster!.createDatabase(`sidian_${process.pid}_${++n}`) });
});
