export * from './etcd';
export * from './grpc';
