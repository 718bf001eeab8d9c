import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

// Certificates for tests, made with the openssl CLI (scripts/provision.sh installs it). Dates are
// set with `openssl ca`, the one OpenSSL 3.0 command that takes explicit notBefore/notAfter.

export interface TestCert {
  certPem: string;
  keyPem: string;
  certPath: string;
  keyPath: string;
  der: Buffer;
}

export interface CertOptions {
  cn: string;
  /** "rsa:2048", "rsa:1024", "ec:P-256", "ec:P-384", "ed25519" */
  key?: string;
  notBefore?: string;
  notAfter?: string;
  md?: 'sha256' | 'sha1' | 'sha384';
  ca?: boolean;
  sans?: string[];
  /**
   * Lines of an openssl `[alt]` section to use as the subjectAltName instead of `sans`, for names
   * the one-line form cannot hold (a comma inside a URI): "URI.1=https://a.test/x, y", "IP.1=::1".
   */
  altNames?: string[];
  /** More openssl config sections, for `altNames` that refer to one ("dirName.1=dir", then "[dir]", "CN=x"). */
  extraConfig?: string[];
  /** More lines of the extensions section ("crlDistributionPoints=URI:http://crl.test/ca.crl"). */
  extensions?: string[];
  /** A leaf's extendedKeyUsage value (default serverAuth); null leaves the extension out. */
  extendedKeyUsage?: string | null;
  /** An X.509 v1 certificate: no extensions at all (no basicConstraints, SAN or key identifiers). */
  v1?: boolean;
  /** Certify the key pair of an earlier certificate instead of generating one (a renewal that keeps its key). */
  keyFrom?: TestCert;
  /**
   * A certificate with an issuer names that issuer's CRL (cRLDistributionPoints), as CA-issued
   * certificates do (KD-CRT-011 reports one without); false leaves it out.
   */
  crl?: boolean;
  issuer?: TestCert;
}

export function tempDir(prefix = 'keydrift-test-'): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? '';
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error('openssl not found: run "npm run provision" (installs the Debian openssl package)');
    }
    throw new Error(`openssl ${args[0]} failed: ${stderr}`);
  }
}

function keyArgs(key: string): string[] {
  const [type, param] = key.split(':');
  if (type === 'rsa') return ['-newkey', `rsa:${param}`];
  if (type === 'ec') return ['-newkey', 'ec', '-pkeyopt', `ec_paramgen_curve:${param}`];
  if (type === 'ed25519') return ['-newkey', 'ed25519'];
  throw new Error(`unknown key spec ${key}`);
}

const stamp = (iso: string) => iso.replace(/[-:T]/g, '').replace(/\.\d+/, '').replace('Z', 'Z');

let serial = 0x2000;

/** Self-signed unless `issuer` is given; dates default to "valid now for 90 days". */
export function makeCert(dir: string, options: CertOptions): TestCert {
  const name = options.cn.replace(/[^A-Za-z0-9.-]/g, '_');
  const work = path.join(dir, `.ca-${name}-${serial}`);
  mkdirSync(path.join(work, 'new'), { recursive: true });
  writeFileSync(path.join(work, 'index.txt'), '');
  writeFileSync(path.join(work, 'serial'), (serial++).toString(16).padStart(4, '0') + '\n');
  const sans = options.sans ?? (options.ca ? [] : [`DNS:${options.cn}`]);
  const eku = options.extendedKeyUsage === undefined ? 'serverAuth' : options.extendedKeyUsage;
  const extensions = options.ca
    ? ['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,keyCertSign,cRLSign']
    : ['basicConstraints=CA:FALSE', 'keyUsage=critical,digitalSignature,keyEncipherment', ...(eku ? [`extendedKeyUsage=${eku}`] : [])];
  if (options.issuer && options.crl !== false) extensions.push(`crlDistributionPoints=URI:http://pki.test/${options.issuer.certPath.replace(/^.*\//, '').replace(/\.pem$/, '')}.crl`);
  extensions.push(...(options.extensions ?? []));
  if (options.altNames && options.sans) throw new Error('makeCert: give sans or altNames, not both');
  if (options.altNames) extensions.push('subjectAltName=@alt');
  else if (sans.length) extensions.push(`subjectAltName=${sans.join(',')}`);
  writeFileSync(
    path.join(work, 'ca.cnf'),
    [
      '[ca]', 'default_ca=test',
      '[test]', `dir=${work}`, 'database=$dir/index.txt', 'serial=$dir/serial', 'new_certs_dir=$dir/new',
      'policy=any', 'unique_subject=no', 'copy_extensions=none', ...(options.v1 ? [] : ['x509_extensions=ext']), 'default_md=sha256',
      '[any]', 'commonName=supplied',
      ...(options.v1 ? [] : ['[ext]', ...extensions]),
      '[req]', 'distinguished_name=dn', 'prompt=no', '[dn]', `CN=${options.cn}`,
      ...(options.altNames ? ['[alt]', ...options.altNames] : []),
      ...(options.extraConfig ?? []),
    ].join('\n'),
  );
  const certPath = path.join(dir, `${name}.pem`);
  const keyPath = options.keyFrom?.keyPath ?? path.join(dir, `${name}.key`);
  const keySource = options.keyFrom ? ['-key', keyPath] : [...keyArgs(options.key ?? 'ec:P-256'), '-nodes', '-keyout', keyPath];
  openssl(['req', '-new', ...keySource, '-out', path.join(work, 'req.csr'), '-config', path.join(work, 'ca.cnf')], work);
  const now = Date.now();
  const notBefore = options.notBefore ?? new Date(now - 86_400_000).toISOString();
  // A CA does not issue past its own notAfter by default (KD-CRT-008 reports a certificate that outlives its issuer).
  const issuerEnd = options.issuer ? new X509Certificate(options.issuer.certPem).validToDate.getTime() : Infinity;
  const notAfter = options.notAfter ?? new Date(Math.min(now + 90 * 86_400_000, issuerEnd)).toISOString();
  const signer = options.issuer
    ? ['-cert', options.issuer.certPath, '-keyfile', options.issuer.keyPath]
    : ['-selfsign', '-keyfile', keyPath];
  openssl(
    ['ca', '-batch', '-notext', '-config', path.join(work, 'ca.cnf'), ...signer, '-md', options.md ?? 'sha256',
      '-startdate', stamp(notBefore), '-enddate', stamp(notAfter), '-in', path.join(work, 'req.csr'), '-out', certPath],
    work,
  );
  rmSync(work, { recursive: true, force: true });
  const certPem = readFileSync(certPath, 'utf8');
  const body = certPem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  return { certPem, keyPem: readFileSync(keyPath, 'utf8'), certPath, keyPath, der: Buffer.from(body, 'base64') };
}

/** A PKCS#7 bundle (as `openssl crl2pkcs7` writes it) holding the given certificates. */
export function makePkcs7(dir: string, certs: TestCert[], outform: 'PEM' | 'DER', file: string): string {
  const out = path.join(dir, file);
  openssl(['crl2pkcs7', '-nocrl', ...certs.flatMap((cert) => ['-certfile', cert.certPath]), '-outform', outform, '-out', out], dir);
  return out;
}
