import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import type { experimental } from '@grpc/grpc-js';
import type { Logger } from '@talk-signaling/runtime';

type CertificateProvider = experimental.CertificateProvider;
type CaListener = experimental.CaCertificateUpdateListener;
type IdentityListener = experimental.IdentityCertificateUpdateListener;

/** Changes within this window are read once (editors and `cp` write in several steps; upstream: 100 ms). */
const DEBOUNCE_MS = 100;

interface LoadedFiles {
  identity: experimental.IdentityCertificateUpdate | undefined;
  ca: experimental.CaCertificateUpdate | undefined;
}

/** Files of one side's TLS material. */
export interface CertificateFiles {
  certificateFile?: string;
  keyFile?: string;
  caFile?: string;
}

/**
 * A grpc-js certificate provider over PEM files that re-reads them when they change on disk
 * (watching their directories, so files replaced by rename — as cert-manager and certbot do —
 * are seen too). A change that does not parse, or a key that does not match its certificate,
 * is logged and the previous material stays in use. New connections get the new material;
 * established ones keep theirs.
 */
export class WatchedCertificates implements CertificateProvider {
  readonly #files: CertificateFiles;
  readonly #logger: Logger;
  readonly #watchers: FSWatcher[] = [];
  readonly #caListeners = new Set<CaListener>();
  readonly #identityListeners = new Set<IdentityListener>();
  #identity: experimental.IdentityCertificateUpdate | undefined;
  #ca: experimental.CaCertificateUpdate | undefined;
  #timer: NodeJS.Timeout | undefined;
  #reloads = 0;
  #closed = false;

  /** Reads the files now; throws if they are unreadable or invalid (a config error at start). */
  constructor(files: CertificateFiles, logger: Logger) {
    this.#files = files;
    this.#logger = logger;
    const loaded = this.#read();
    this.#identity = loaded.identity;
    this.#ca = loaded.ca;
    const dirs = new Set([files.certificateFile, files.keyFile, files.caFile].filter((f): f is string => f !== undefined).map((f) => path.dirname(path.resolve(f))));
    const names = new Set([files.certificateFile, files.keyFile, files.caFile].filter((f): f is string => f !== undefined).map((f) => path.basename(f)));
    for (const dir of dirs) {
      const watcher = watch(dir, { persistent: false }, (_event, name) => {
        // Kubernetes secrets swap a `..data` symlink: any change in the directory may matter.
        if (name === null || names.has(name.toString()) || name.toString().startsWith('..')) this.#schedule();
      });
      watcher.on('error', (err) => this.#logger.warn({ err, dir }, 'certificate directory watch failed'));
      this.#watchers.push(watcher);
    }
  }

  /** How often new material was taken into use (tests wait on this). */
  get reloads(): number {
    return this.#reloads;
  }

  /** Stops watching the files. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    for (const watcher of this.#watchers) watcher.close();
  }

  addCaCertificateListener(listener: CaListener): void {
    this.#caListeners.add(listener);
    if (this.#ca !== undefined) process.nextTick(listener, this.#ca);
  }

  removeCaCertificateListener(listener: CaListener): void {
    this.#caListeners.delete(listener);
  }

  addIdentityCertificateListener(listener: IdentityListener): void {
    this.#identityListeners.add(listener);
    if (this.#identity !== undefined) process.nextTick(listener, this.#identity);
  }

  removeIdentityCertificateListener(listener: IdentityListener): void {
    this.#identityListeners.delete(listener);
  }

  #schedule(): void {
    if (this.#closed) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#reload(), DEBOUNCE_MS);
    this.#timer.unref();
  }

  #reload(): void {
    if (this.#closed) return;
    let loaded: LoadedFiles;
    try {
      loaded = this.#read();
    } catch (err) {
      this.#logger.warn({ err: err instanceof Error ? err.message : String(err), files: this.#files }, 'could not reload TLS files, keeping the previous ones');
      return;
    }
    const identityChanged = !sameIdentity(loaded.identity, this.#identity);
    const caChanged = !sameCa(loaded.ca, this.#ca);
    if (!identityChanged && !caChanged) return;
    this.#identity = loaded.identity;
    this.#ca = loaded.ca;
    this.#reloads++;
    this.#logger.info({ files: this.#files }, 'reloaded TLS files');
    if (identityChanged && loaded.identity !== undefined) for (const l of this.#identityListeners) l(loaded.identity);
    if (caChanged && loaded.ca !== undefined) for (const l of this.#caListeners) l(loaded.ca);
  }

  #read(): LoadedFiles {
    const { certificateFile, keyFile, caFile } = this.#files;
    let identity: experimental.IdentityCertificateUpdate | undefined;
    if (certificateFile !== undefined && keyFile !== undefined) {
      const certificate = readFileSync(certificateFile);
      const privateKey = readFileSync(keyFile);
      const x509 = parseCertificate(certificate, certificateFile);
      let key;
      try {
        key = createPrivateKey(privateKey);
      } catch (err) {
        throw new Error(`${keyFile}: not a PEM private key`, { cause: err });
      }
      if (!x509.checkPrivateKey(key)) throw new Error(`${keyFile} does not belong to ${certificateFile}`);
      identity = { certificate, privateKey };
    }
    let ca: experimental.CaCertificateUpdate | undefined;
    if (caFile !== undefined) {
      const caCertificate = readFileSync(caFile);
      parseCertificate(caCertificate, caFile);
      ca = { caCertificate };
    }
    return { identity, ca };
  }
}

function parseCertificate(pem: Buffer, file: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch (err) {
    throw new Error(`${file}: not a PEM certificate`, { cause: err });
  }
}

function sameIdentity(a: experimental.IdentityCertificateUpdate | undefined, b: experimental.IdentityCertificateUpdate | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.certificate.equals(b.certificate) && a.privateKey.equals(b.privateKey);
}

function sameCa(a: experimental.CaCertificateUpdate | undefined, b: experimental.CaCertificateUpdate | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.caCertificate.equals(b.caCertificate);
}
