import { BlockList, isIP } from 'node:net';
import { AudioSocketError, ErrorCode } from '../errors';

/**
 * The `allow` option: peers that may connect, as addresses or CIDR blocks, IPv4 or IPv6
 * (`10.0.0.0/8`, `127.0.0.1`, `::1`, `fd00::/8`). An empty list allows everyone.
 */
export class AllowList {
  readonly entries: readonly string[];
  #list = new BlockList();

  constructor(entries: readonly string[]) {
    this.entries = entries;
    for (const entry of entries) {
      const [address = '', prefixText, extra] = entry.split('/');
      const family = isIP(address);
      const max = family === 4 ? 32 : 128;
      const prefix = prefixText === undefined ? max : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
      if (family === 0 || extra !== undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > max) {
        throw new AudioSocketError(ErrorCode.INVALID_ARGUMENT, `allow: not an address or CIDR block: ${JSON.stringify(entry)}`);
      }
      this.#list.addSubnet(address, prefix, family === 4 ? 'ipv4' : 'ipv6');
    }
  }

  /** Whether `address` may connect. IPv4-mapped IPv6 (`::ffff:10.0.0.1`) is judged as IPv4. */
  allows(address: string | undefined): boolean {
    if (this.entries.length === 0) return true;
    if (!address) return false;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    const plain = mapped ? mapped[1]! : address;
    return this.#list.check(plain, isIP(plain) === 4 ? 'ipv4' : 'ipv6');
  }
}
