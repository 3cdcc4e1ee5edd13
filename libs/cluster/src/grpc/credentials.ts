import { ServerCredentials, credentials as grpcCredentials, experimental, type ChannelCredentials } from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import type { Logger } from '@talk-signaling/runtime';
import type { GrpcTlsOptions } from './grpc-options';
import { WatchedCertificates } from './watched-certificates';

/** Credentials of one side plus the file watch behind them. */
export interface ManagedCredentials<C> {
  readonly credentials: C;
  /** Whether connections are encrypted. */
  readonly secure: boolean;
  /** The watched files (undefined when insecure or static); `reloads` counts taken-up changes. */
  readonly files: WatchedCertificates | undefined;
  /** Stops watching the files. */
  close(): void;
}

function nonEmpty(value: string | undefined): string | undefined {
  const v = value?.trim();
  return v === undefined || v === '' ? undefined : v;
}

/**
 * Server side (upstream `NewReloadableCredentials(…, server=true)`): `servercertificate` +
 * `serverkey` turn TLS on; `clientca` additionally requires and verifies client certificates.
 * Without files the server is unencrypted (warned). Files are reloaded when they change.
 */
export function createServerCredentials(tls: GrpcTlsOptions, logger: Logger): ManagedCredentials<ServerCredentials> {
  const certificateFile = nonEmpty(tls.servercertificate);
  const keyFile = nonEmpty(tls.serverkey);
  const caFile = nonEmpty(tls.clientca);
  if (certificateFile === undefined || keyFile === undefined) {
    if (caFile !== undefined) throw new Error('[grpc] clientca needs servercertificate and serverkey');
    logger.warn('no gRPC server certificate and/or key configured, running unencrypted');
    return { credentials: ServerCredentials.createInsecure(), secure: false, files: undefined, close: () => undefined };
  }
  const files = new WatchedCertificates({ certificateFile, keyFile, caFile }, logger);
  // grpc-js: (identity provider, CA provider or null, require client certificate).
  const credentials = experimental.createCertificateProviderServerCredentials(files, caFile === undefined ? null : files, caFile !== undefined);
  return { credentials, secure: true, files, close: () => files.close() };
}

/**
 * Client side (upstream `NewReloadableCredentials(…, server=false)`): `serverca` turns TLS on
 * and is what peers' certificates are checked against; `clientcertificate` + `clientkey` are
 * presented to peers that ask. A client certificate without `serverca` uses the system CAs (not
 * reloaded). Without files connections are unencrypted (warned).
 */
export function createClientCredentials(tls: GrpcTlsOptions, logger: Logger): ManagedCredentials<ChannelCredentials> {
  const certificateFile = nonEmpty(tls.clientcertificate);
  const keyFile = nonEmpty(tls.clientkey);
  const caFile = nonEmpty(tls.serverca);
  const identity = certificateFile !== undefined && keyFile !== undefined;
  if (caFile === undefined) {
    if (identity) {
      return {
        credentials: grpcCredentials.createSsl(null, readFileSync(keyFile), readFileSync(certificateFile)),
        secure: true,
        files: undefined,
        close: () => undefined,
      };
    }
    logger.warn('no gRPC CA configured, expecting unencrypted connections');
    return { credentials: grpcCredentials.createInsecure(), secure: false, files: undefined, close: () => undefined };
  }
  const files = new WatchedCertificates({ certificateFile: identity ? certificateFile : undefined, keyFile: identity ? keyFile : undefined, caFile }, logger);
  const credentials = experimental.createCertificateProviderChannelCredentials(files, identity ? files : null);
  return { credentials, secure: true, files, close: () => files.close() };
}
