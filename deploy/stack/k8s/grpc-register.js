// Sidecar of each signaling pod (signaling-cluster.yaml): keeps the pod's gRPC address in etcd
// while the pod runs, so that the replicas find each other. The server only reads its gRPC
// targets from etcd ([grpc] targettype = etcd), as the Go server does; registering is left to
// the deployment, and this is that part.
//
// Key:   <GRPC_PREFIX>/<POD_NAME> = {"address": "<GRPC_ADDRESS>"} (the format the servers read)
// Lease: LEASE_TTL seconds (default 15), kept alive while this runs. On SIGTERM/SIGINT the lease
//        is revoked, so the key goes at once and the other replicas drop the target; when the
//        pod dies, the key goes when the lease expires. A lease etcd no longer knows (etcd lost
//        its data, or was unreachable longer than the TTL) is replaced and the key put again.
// Runs with the signaling image's Node and its etcd3 package (NODE_PATH=/app/node_modules).
'use strict';
const { Etcd3 } = require('etcd3');

function env(name) {
  const value = process.env[name];
  if (!value) {
    process.stderr.write(`grpc-register: ${name} is not set\n`);
    process.exit(2);
  }
  return value;
}

const hosts = env('ETCD_ENDPOINTS').split(',').map((url) => url.trim()).filter(Boolean);
const key = `${env('GRPC_PREFIX').replace(/\/+$/, '')}/${env('POD_NAME')}`;
const value = JSON.stringify({ address: env('GRPC_ADDRESS') });
const ttl = Number(process.env.LEASE_TTL || '15');
if (!Number.isInteger(ttl) || ttl < 1) {
  process.stderr.write(`grpc-register: LEASE_TTL must be a whole number of seconds >= 1, not ${JSON.stringify(process.env.LEASE_TTL)}\n`);
  process.exit(2);
}
const RETRY_MS = 2000;
const REVOKE_TIMEOUT_MS = 5000;

const client = new Etcd3({ hosts });
/** The lease holding the key now (undefined while registering or stopped). */
let lease;
let stopping = false;

function log(message) {
  process.stdout.write(`${new Date().toISOString()} grpc-register: ${message}\n`);
}

async function register() {
  while (!stopping) {
    const current = client.lease(ttl);
    // A lease that failed to be granted is lost as well; only the lease in use re-registers.
    current.on('lost', (err) => {
      if (stopping || lease !== current) return;
      lease = undefined;
      log(`lease lost (${err.message}); registering again`);
      setTimeout(() => void register(), RETRY_MS);
    });
    try {
      await current.put(key).value(value);
      lease = current;
      log(`registered ${key} = ${value} (lease ${ttl} s)`);
      return;
    } catch (err) {
      current.release();
      log(`could not register (${err.message}); retrying in ${RETRY_MS} ms`);
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
    }
  }
}

async function stop(signal) {
  if (stopping) return;
  stopping = true;
  const current = lease;
  lease = undefined;
  if (current) {
    const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error('timed out')), REVOKE_TIMEOUT_MS));
    try {
      await Promise.race([current.revoke(), timeout]);
      log(`${signal}: lease revoked, ${key} removed`);
    } catch (err) {
      log(`${signal}: could not revoke the lease (${err.message}); ${key} goes when it expires`);
    }
  }
  client.close();
  process.exit(0);
}

process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));
void register();
