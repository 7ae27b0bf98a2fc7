// Docker for the deployment tests (test/docker/): installs Debian's docker.io, docker-compose and debootstrap
// when missing, starts dockerd when no engine answers, and builds the stand-in images a machine without a
// registry needs (docker/stand-ins/): a Debian bookworm base made with debootstrap, and from it Node.js (the
// host's binary), PostgreSQL 15 and Redis 7. Each image is built once per machine and reused after.
// With a registry none of this is needed: docker-compose.yml defaults to the official images.
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdtempSync, openSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ROOT, fail, log, run } from './workspace.mjs';

/** The stand-in images, passed to docker-compose as its image variables. */
export const STAND_INS = {
  NODE_IMAGE: 'desk-stand-in/node:20-bookworm',
  POSTGRES_IMAGE: 'desk-stand-in/postgres:15',
  REDIS_IMAGE: 'desk-stand-in/redis:7',
  PROMETHEUS_IMAGE: 'desk-stand-in/prometheus:2',
};
const BASE_IMAGE = 'desk-stand-in/debian:bookworm';
const HOST_CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

const quiet = (command, args, options = {}) => spawnSync(command, args, { stdio: 'ignore', ...options });
const has = (command, arg = '--version') => quiet(command, [arg]).status === 0;
export const docker = (args, options = {}) =>
  spawnSync('docker', args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...options });
const engineUp = () => docker(['info', '--format', '{{.ServerVersion}}']).status === 0;
const imageExists = (image) => docker(['image', 'inspect', image]).status === 0;

function aptInstall(packages) {
  const root = process.getuid?.() === 0;
  if (!has('apt-get')) fail(`the docker tests need ${packages.join(', ')}: install them (Debian: apt-get)`);
  if (!root && !has('sudo')) fail(`installing ${packages.join(', ')} needs root`);
  log(`installing ${packages.join(', ')} (Debian packages) for the docker tests`);
  const [command, prefix] = root ? ['apt-get', []] : ['sudo', ['-n', 'apt-get']];
  run(command, [...prefix, 'install', '-y', '--no-install-recommends', ...packages], {
    env: { DEBIAN_FRONTEND: 'noninteractive' },
  });
}

/** Docker engine, docker-compose and debootstrap, installed and running. */
export async function ensureDocker() {
  const missing = [];
  if (!has('dockerd')) missing.push('docker.io');
  if (!has('docker-compose', 'version')) missing.push('docker-compose');
  if (!existsSync('/usr/sbin/debootstrap')) missing.push('debootstrap');
  if (missing.length) aptInstall(missing);
  if (engineUp()) return;
  log('starting dockerd (log: /tmp/desk-dockerd.log)');
  const out = openSync('/tmp/desk-dockerd.log', 'a');
  const daemon = spawn('dockerd', ['--storage-driver', 'overlay2'], {
    detached: true,
    stdio: ['ignore', out, out],
  });
  daemon.unref();
  const deadline = Date.now() + 60_000;
  while (!engineUp()) {
    if (Date.now() > deadline) fail('dockerd did not answer within 60 s (see /tmp/desk-dockerd.log)');
    await new Promise((r) => setTimeout(r, 500));
  }
}

function buildImage(tag, context, args = {}) {
  log(`building ${tag}`);
  const buildArgs = Object.entries(args).flatMap(([k, v]) => ['--build-arg', `${k}=${v}`]);
  run('docker', ['build', '--quiet', '--force-rm', '-t', tag, ...buildArgs, context], {
    env: { DOCKER_BUILDKIT: '0' },
  });
}

/** The stand-in images (built once; reused while `docker image inspect` finds them). */
export function ensureStandIns() {
  if (!imageExists(BASE_IMAGE)) {
    const rootfs = mkdtempSync(join(tmpdir(), 'desk-rootfs-'));
    try {
      log('making the Debian bookworm base image with debootstrap (once per machine)');
      run('debootstrap', ['--variant=minbase', 'bookworm', rootfs, 'http://deb.debian.org/debian']);
      const tar = spawnSync('sh', ['-c', `tar -C "${rootfs}" -c . | docker import - ${BASE_IMAGE}`], {
        stdio: 'inherit',
      });
      if (tar.status !== 0) fail('docker import of the debootstrap root failed');
    } finally {
      rmSync(rootfs, { recursive: true, force: true });
    }
  }
  const dir = join(ROOT, 'docker', 'stand-ins');
  if (!imageExists(STAND_INS.NODE_IMAGE)) {
    // The host's own Node.js binary and npm (the official image's would come from the registry).
    const context = mkdtempSync(join(tmpdir(), 'desk-node-'));
    try {
      copyFileSync(realpathSync(process.execPath), join(context, 'node'));
      const npm = join(dirname(realpathSync(process.execPath)), '..', 'lib', 'node_modules', 'npm');
      if (!existsSync(npm)) fail(`npm not found next to ${process.execPath} (looked in ${npm})`);
      cpSync(npm, join(context, 'npm'), { recursive: true });
      // The machine's trust store: on a network whose egress re-signs TLS, the image must trust what the
      // host trusts to reach the npm registry during the build.
      copyFileSync(process.env.NODE_EXTRA_CA_CERTS ?? HOST_CA_BUNDLE, join(context, 'ca-certificates.crt'));
      copyFileSync(join(dir, 'node.Dockerfile'), join(context, 'Dockerfile'));
      buildImage(STAND_INS.NODE_IMAGE, context, { BASE_IMAGE });
    } finally {
      rmSync(context, { recursive: true, force: true });
    }
  }
  for (const [name, file] of [
    ['POSTGRES_IMAGE', 'postgres'],
    ['REDIS_IMAGE', 'redis'],
    ['PROMETHEUS_IMAGE', 'prometheus'],
  ]) {
    if (imageExists(STAND_INS[name])) continue;
    run(
      'docker',
      [
        'build',
        '--force-rm',
        '--quiet',
        '-t',
        STAND_INS[name],
        '--build-arg',
        `BASE_IMAGE=${BASE_IMAGE}`,
        '-f',
        join(dir, `${file}.Dockerfile`),
        dir,
      ],
      { env: { DOCKER_BUILDKIT: '0' } },
    );
  }
}
