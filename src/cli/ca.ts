// `machineroom ca`: creates the project's local CA if missing and says where it is and how to trust it.
import { EXIT_OK } from '../errors/index.js';
import { ensureStateDir, readLiveDaemon, statePaths } from '../state/index.js';
import type { Verb } from './args.js';
import { flag } from './args.js';
import { loadProjectConfig } from './project.js';
import { paint, useColor } from './output.js';

/** The front door's HTTPS port when nothing else is configured. */
const DEFAULT_HTTPS_PORT = 8443;

/** Quotes a path for a POSIX shell when it needs it. */
function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:@%+=-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** `ca` */
export const caVerb: Verb = {
  name: 'ca',
  summary: "Create the project's local CA if missing, and print its certificate's path, fingerprint and how to trust it.",
  usage: 'ca [--path] [--json]',
  description:
    'The front door signs HTTPS certificates for https://<service>.localhost with this CA; trust it once and browsers, curl and Node accept them.\n' +
    'Scripts: curl --cacert "$(machineroom ca --path)" https://alpha.localhost:8443/',
  options: {
    path: { type: 'boolean', description: "print only the CA certificate's path" },
    json: { type: 'boolean', description: 'print JSON: path, keyPath, subject, fingerprint256, notAfter' },
  },
  async run(args) {
    const config = await loadProjectConfig(args);
    const paths = statePaths(config.projectDir);
    ensureStateDir(paths); // its .gitignore keeps the CA key out of version control
    const { ensureLocalCa, readLocalCa } = await import('../tls/index.js');
    const existed = readLocalCa(paths.dir) !== undefined;
    const ca = await ensureLocalCa(paths.dir, { projectName: config.name });
    if (flag(args, 'path')) {
      process.stdout.write(ca.certPath + '\n');
      return EXIT_OK;
    }
    if (flag(args, 'json')) {
      const out = { path: ca.certPath, keyPath: ca.keyPath, subject: ca.subject, fingerprint256: ca.fingerprint256, notAfter: ca.notAfter.toISOString() };
      process.stdout.write(JSON.stringify(out, null, 2) + '\n');
      return EXIT_OK;
    }
    // The running daemon's HTTPS port, else front_door.https_port (0 means any free port).
    const configured = readLiveDaemon(statePaths(config.projectDir))?.httpsPort ?? config.frontDoor.httpsPort;
    const port = configured === undefined ? String(DEFAULT_HTTPS_PORT) : configured === 0 ? '<its port>' : String(configured);
    const color = useColor();
    const p = shellQuote(ca.certPath);
    const nick = `machineroom local CA (${config.name})`;
    const label = (s: string) => paint(s.padEnd(16), 'cyan', color);
    const lines = [
      `${paint(`Local CA of project ${config.name}`, 'bold', color)}${existed ? '' : paint(' (created now)', 'green', color)}`,
      `  ${label('certificate')}${ca.certPath}`,
      `  ${label('subject')}${ca.subject}`,
      `  ${label('SHA-256')}${ca.fingerprint256}`,
      `  ${label('expires')}${ca.notAfter.toISOString()}`,
      '',
      paint('Trust it (once per machine; restart browsers afterwards):', 'bold', color),
      `  ${label('Debian/Ubuntu')}sudo cp ${p} /usr/local/share/ca-certificates/machineroom-${config.name}.crt && sudo update-ca-certificates`,
      `  ${label('Fedora/RHEL')}sudo trust anchor --store ${p}`,
      `  ${label('macOS')}sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain ${p}`,
      `  ${label('Windows')}certutil -addstore -f ROOT ${ca.certPath}   (in an administrator prompt)`,
      `  ${label('Chrome (Linux)')}certutil -d sql:$HOME/.pki/nssdb -A -t C,, -n "${nick}" -i ${p}   (certutil: apt install libnss3-tools)`,
      `  ${label('Firefox')}the same certutil with -d sql:<your Firefox profile directory>, or Settings › Privacy & Security › Certificates › Import`,
      `  ${label('Node')}NODE_EXTRA_CA_CERTS=${p} node app.js`,
      `  ${label('curl')}curl --cacert ${p} https://<service>.localhost:${port}/`,
      '',
      `The front door serves HTTPS at https://<service>.localhost:${port} (its HTTPS port, ${DEFAULT_HTTPS_PORT} by default).`,
      paint(`Keep ${ca.keyPath} private: anyone with it can impersonate any site to a machine that trusts this CA. To start over, delete ${paths.dir}/ca and trust the new CA.`, 'gray', color),
    ];
    process.stdout.write(lines.join('\n') + '\n');
    return EXIT_OK;
  },
};
