// The CLI's `t`: the same messages as the extension (core's texts), in Simplified Chinese when the
// environment's locale says so (LC_ALL, LC_MESSAGES, LANG, or --locale), else in English.
import zhCn from '../../l10n/bundle.l10n.zh-cn.json';
import type { Localize } from '../core/taskTreeModel';

const substitute = (message: string, args: Array<string | number>) =>
  message.replace(/\{(\d+)\}/g, (m, n: string) => (args[Number(n)] !== undefined ? String(args[Number(n)]) : m));

export function cliLocale(env: NodeJS.ProcessEnv, flag?: string): string {
  const raw = flag ?? env.LC_ALL ?? env.LC_MESSAGES ?? env.LANG ?? 'en';
  return raw.toLowerCase().replace(/_/g, '-').replace(/\..*$/, '');
}

export function cliLocalize(locale: string): Localize {
  const bundle: Record<string, string> | undefined = locale.startsWith('zh') ? (zhCn as Record<string, string>) : undefined;
  return (message, ...args) => substitute(bundle?.[message] ?? message, args);
}
