/**
 * server.conf of the deployment tests' signaling servers: loopback listener, one backend
 * section, the in-process bus, /metrics for 127.0.0.1 (where Prometheus scrapes from).
 */
export function signalingServerConf(
  port: number,
  backend: { url: string; secret: string },
  extraConfig = '',
  natsUrl = 'nats://loopback',
): string {
  return [
    '[http]',
    `listen = 127.0.0.1:${port}`,
    '[sessions]',
    'hashkey = deploy-test-hash-key-32-characters',
    'blockkey = 0123456789abcdef',
    '[clients]',
    'internalsecret = deploy-test-internal-secret',
    '[nats]',
    `url = ${natsUrl}`,
    '[backend]',
    'backends = nc1',
    '[nc1]',
    `url = ${backend.url}`,
    `secret = ${backend.secret}`,
    '[stats]',
    'allowed_ips = 127.0.0.1',
    extraConfig,
  ].join('\n');
}
