// Loads @peculiar/x509 on first use (it takes ~300ms to import), with its Reflect needs met and Node's WebCrypto as its provider.
import { webcrypto } from 'node:crypto';
import { installReflectMetadata } from './reflect-shim.js';

/** The @peculiar/x509 module. */
export type X509Lib = typeof import('@peculiar/x509');

/** ECDSA P-256 with SHA-256: the key and signature algorithm of the CA and every leaf. */
export const EC_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

let loading: Promise<X509Lib> | undefined;

/** The certificate library, ready to use; import it only through here (it needs the Reflect shim first). */
export function loadX509(): Promise<X509Lib> {
  loading ??= (async () => {
    installReflectMetadata();
    const lib = await import('@peculiar/x509');
    lib.cryptoProvider.set(webcrypto as unknown as Parameters<typeof lib.cryptoProvider.set>[0]);
    return lib;
  })();
  return loading;
}
