// `node scripts/docker-stack.mjs prepare`: everything the docker tests (test/docker/) need before a stack
// starts, printed as JSON on the last line: Docker and docker-compose installed and dockerd running, the
// stand-in base images built (once per machine; scripts/lib/docker.mjs), and the desk's image built from
// ./Dockerfile on the Node.js stand-in (docker layer cache: only what changed is rebuilt).
import { ROOT, fail, log, run } from './lib/workspace.mjs';
import { STAND_INS, ensureDocker, ensureStandIns } from './lib/docker.mjs';

export const TEST_IMAGE = 'desk-test/trading-desk:latest';

const [command] = process.argv.slice(2);
if (command !== 'prepare') fail('usage: node scripts/docker-stack.mjs prepare');
await ensureDocker();
ensureStandIns();
log(`building ${TEST_IMAGE} (./Dockerfile on ${STAND_INS.NODE_IMAGE})`);
run(
  'docker',
  [
    'build',
    '--quiet',
    '--force-rm',
    '-t',
    TEST_IMAGE,
    '--build-arg',
    `NODE_IMAGE=${STAND_INS.NODE_IMAGE}`,
    ROOT,
  ],
  {
    env: { DOCKER_BUILDKIT: '0' },
  },
);
process.stdout.write(`${JSON.stringify({ DESK_IMAGE: TEST_IMAGE, ...STAND_INS })}\n`);
