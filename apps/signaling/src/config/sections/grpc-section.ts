/** `[grpc]`: the cluster RPC between signaling nodes. */
import { z } from 'zod';
import { boolOption, enumOption, listOption, stringOption } from '@talk-signaling/runtime';

/** How gRPC targets are configured. */
export const GRPC_TARGET_TYPES = ['static', 'etcd'] as const;
/** Default gRPC target configuration (upstream `DefaultGrpcTargetType`). */
export const DEFAULT_GRPC_TARGET_TYPE = 'static';

/** `[grpc]` */
export const GrpcSection = z.object({
  /** `ip:port` of the gRPC server. Default: none (no gRPC server). `$(VAR)` references are resolved. */
  listen: stringOption(),
  /** Server certificate PEM file; omit for unencrypted connections. Default: none. */
  servercertificate: stringOption(),
  /** Server private key PEM file. Default: none. */
  serverkey: stringOption(),
  /** CA that issues the certificates of gRPC servers (client side). Default: none. */
  serverca: stringOption(),
  /** Client certificate PEM file (authenticates this node to other servers). Default: none. */
  clientcertificate: stringOption(),
  /** Client private key PEM file. Default: none. */
  clientkey: stringOption(),
  /** CA that issues the certificates of gRPC clients; set = clients must authenticate. Default: none. */
  clientca: stringOption(),
  /** `static` (`targets`) or `etcd` (`targetprefix`). Default: `static`. */
  targettype: enumOption(GRPC_TARGET_TYPES, DEFAULT_GRPC_TARGET_TYPE, 'gRPC target type'),
  /** `static`: comma-separated `host:port` targets. Default: none. */
  targets: listOption('comma'),
  /** `static`: one client per resolved IP of each target host. Default: false. */
  dnsdiscovery: boolOption(false),
  /** `etcd`: key prefix of target entries, e.g. `/signaling/cluster/grpc`; required for `etcd`. Default: none. */
  targetprefix: stringOption(),
});
