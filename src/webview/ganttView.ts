import type { CompareHeader, FromWebview, GanttStrings } from '../core/ganttProtocol';
import { GanttStore } from './ganttStore';
import type { Hit } from './ganttHitTest';

interface VsCodeApi { postMessage(m: FromWebview): void; getState(): unknown; setState(s: unknown): void }
declare function acquireVsCodeApi(): VsCodeApi;

export const vscode = acquireVsCodeApi();
export const store = new GanttStore();

export const ROW_H = 20;
export const AXIS_H = 26;
export const MIN_LABEL_W = 120;

let S: GanttStrings = {};
export function setStrings(strings: GanttStrings): void { S = strings; }
export function t(key: string, ...args: (string | number)[]): string {
  const s = S[key] ?? key;
  return args.length ? s.replace(/\{(\d+)\}/g, (m, i: string) => (args[+i] !== undefined ? String(args[+i]) : m)) : s;
}

/** The view's mutable state, shared by drawing, hit testing, navigation and input. */
export const view = {
  t0: 0,
  upp: 1000, // microseconds per CSS pixel
  scrollTop: 0,
  follow: true,
  selected: null as number | null,
  hover: null as Hit | null,
  mouse: null as { x: number; y: number } | null,
  width: 0,
  height: 0,
  dpr: 1,
  labelW: 260,
  frames: 0,
  lastFrameMs: 0,
  slicesDrawn: 0,
  firstFrameMs: null as number | null,
  loadStart: 0,
  loaded: false,
  hasRun: false,
  fitted: false,
  drag: null as { x: number; y: number; t0: number; scrollTop: number; mode: 'pan' | 'range' | 'pending'; moved: boolean; startX: number } | null,
  rangeSel: null as { a: number; b: number } | null,
  currentFile: undefined as string | undefined,
  /** Compare mode: the two runs shown (the lanes are both runs' tasks under a root lane each). */
  compare: undefined as CompareHeader | undefined,
  /** Height of the event-loop lag lanes between the axis and the task lanes (0: none). */
  lagH: 0,
};

export function chartW(): number { return Math.max(1, view.width - view.labelW); }
/** Where the task lanes start: under the axis and the lag lanes. */
export function bodyTop(): number { return AXIS_H + view.lagH; }
export function chartH(): number { return Math.max(1, view.height - bodyTop()); }
export function xOf(ts: number): number { return view.labelW + (ts - view.t0) / view.upp; }
export function tOf(x: number): number { return view.t0 + (x - view.labelW) * view.upp; }

export const perfLog: string[] = [];
