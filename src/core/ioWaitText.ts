// Words for a network/I/O wait ({"kind":"io","op":...}) in the tree, hovers and annotations.

export type Translate = (message: string, ...args: Array<string | number>) => string;

/** `op` is trace text: the caller neutralizes what it shows. A DNS lookup (getaddrinfo, run in
 * the loop's executor by asyncio, aiohttp and anyio) is named as such; other ops read as I/O. */
export function ioWaitText(op: unknown, t: Translate): string {
  const o = typeof op === 'string' ? op : '';
  if (o === 'resolve') return t('DNS lookup');
  return t('I/O {0}', o);
}
