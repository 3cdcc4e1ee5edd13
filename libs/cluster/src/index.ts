export * from './etcd';
