import { Counter, Gauge, type Registry } from 'prom-client';

/** gRPC metrics, names and help texts as upstream (`signaling_grpc_*`). */
export interface GrpcMetrics {
  /** Connections to other nodes (self excluded once detected). */
  clients: Gauge;
  /** Calls made, by method (`GetServerId`, `LookupResumeId`, …). */
  clientCallsTotal: Counter<'method'>;
  /** Calls answered, by method (upstream labels GetSessionCount as `SessionCount`). */
  serverCallsTotal: Counter<'method'>;
}

/** Registers the gRPC metrics in `registry`. */
export function createGrpcMetrics(registry: Registry): GrpcMetrics {
  const registers = [registry];
  return {
    clients: new Gauge({ name: 'signaling_grpc_clients', help: 'The current number of GRPC clients', registers }),
    clientCallsTotal: new Counter({ name: 'signaling_grpc_client_calls_total', help: 'The total number of GRPC client calls', labelNames: ['method'], registers }),
    serverCallsTotal: new Counter({ name: 'signaling_grpc_server_calls_total', help: 'The total number of GRPC server calls', labelNames: ['method'], registers }),
  };
}
