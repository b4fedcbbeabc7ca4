// The schema the export checker decodes Perfetto exports with (exportCheck.ts) is checked here
// against Perfetto's own .proto files, release v58.2 (kept unmodified, with their licence, in
// fixtures/perfetto-v58.2): every field's number, name, type and label, and the enum values the
// exporter writes. A schema written by hand from the docs could otherwise agree with the exporter
// and both be wrong.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SCHEMA } from './exportCheck';

const DIR = join(__dirname, 'fixtures', 'perfetto-v58.2');

interface ProtoField { type: string; name: string; repeated: boolean }
interface ProtoMessage { fields: Map<number, ProtoField>; enums: Map<string, Map<string, number>> }

/** Messages (by simple name, nested ones too) and their enums, from .proto text. */
function parseProtos(texts: string[]): Map<string, ProtoMessage> {
  const messages = new Map<string, ProtoMessage>();
  for (const raw of texts) {
    const text = raw.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
    // A stack of open blocks: a message, an enum (its values), or another block (oneof, options).
    const stack: Array<{ kind: 'message'; msg: ProtoMessage } | { kind: 'enum'; values: Map<string, number> } | { kind: 'other' }> = [];
    const tokens = text.split(/([{};])/);
    let pending = '';
    for (const tok of tokens) {
      if (tok === '{') {
        const head = pending.trim();
        pending = '';
        let m: RegExpMatchArray | null;
        if ((m = head.match(/^message\s+(\w+)$/))) {
          const msg: ProtoMessage = { fields: new Map(), enums: new Map() };
          messages.set(m[1], msg);
          stack.push({ kind: 'message', msg });
        } else if ((m = head.match(/^enum\s+(\w+)$/))) {
          const values = new Map<string, number>();
          const owner = [...stack].reverse().find((s) => s.kind === 'message');
          if (owner && owner.kind === 'message') owner.msg.enums.set(m[1], values);
          stack.push({ kind: 'enum', values });
        } else {
          stack.push({ kind: 'other' }); // oneof, extend, option blocks
        }
      } else if (tok === '}') {
        stack.pop();
        pending = '';
      } else if (tok === ';') {
        const stmt = pending.trim();
        pending = '';
        const top = stack[stack.length - 1];
        if (!top) continue;
        if (top.kind === 'enum') {
          const m = stmt.match(/^(\w+)\s*=\s*(-?\d+)/);
          if (m) top.values.set(m[1], Number(m[2]));
          continue;
        }
        // A field of the innermost message (a oneof's fields belong to the message around it).
        const owner = [...stack].reverse().find((s) => s.kind === 'message');
        if (!owner || owner.kind !== 'message') continue;
        const m = stmt.match(/^(optional\s+|repeated\s+|required\s+)?([\w.]+)\s+(\w+)\s*=\s*(\d+)/);
        if (m && !['reserved', 'option', 'extensions', 'message', 'enum'].includes(m[2])) {
          owner.msg.fields.set(Number(m[4]), { type: m[2], name: m[3], repeated: (m[1] ?? '').trim() === 'repeated' });
        }
      } else {
        pending += tok;
      }
    }
  }
  return messages;
}

const protos = parseProtos(readdirSync(DIR).filter((f) => f.endsWith('.proto')).map((f) => readFileSync(join(DIR, f), 'utf8')));

test("the export checker's Perfetto schema is Perfetto v58.2's, field by field", () => {
  let checked = 0;
  for (const [message, fields] of Object.entries(SCHEMA)) {
    const proto = protos.get(message);
    assert.ok(proto, `message ${message} is in Perfetto's protos`);
    for (const [num, def] of Object.entries(fields)) {
      const pf = proto.fields.get(Number(num));
      assert.ok(pf, `${message} field ${num} (${def.name}) exists in Perfetto's protos`);
      assert.equal(pf.name, def.name, `${message} field ${num}`);
      assert.equal(pf.repeated, def.repeated === true, `${message}.${def.name} repeated`);
      const type = typeof def.type === 'string' ? def.type : def.type.message;
      // An enum is written as its int32 value (a varint).
      const protoType: string | undefined = proto.enums.has(pf.type) ? 'int32' : pf.type.split('.').pop();
      assert.equal(protoType, type, `${message}.${def.name} type`);
      checked++;
    }
  }
  assert.ok(checked >= 25, `${checked} fields checked`);
});

test('the enum values the exporter writes are those of Perfetto v58.2', () => {
  const type = protos.get('TrackEvent')!.enums.get('Type')!;
  assert.equal(type.get('TYPE_SLICE_BEGIN'), 1);
  assert.equal(type.get('TYPE_SLICE_END'), 2);
  assert.equal(type.get('TYPE_INSTANT'), 3);
  const flags = protos.get('TracePacket')!.enums.get('SequenceFlags')!;
  assert.equal(flags.get('SEQ_INCREMENTAL_STATE_CLEARED'), 1);
  // The exporter's own constants (not exported from it): read from its source.
  const src = readFileSync(join(__dirname, '..', '..', 'src', 'core', 'exportFormats.ts'), 'utf8');
  const constant = (name: string) => Number(src.match(new RegExp(`const ${name} = (\\d+);`))?.[1]);
  assert.equal(constant('TYPE_SLICE_BEGIN'), 1);
  assert.equal(constant('TYPE_SLICE_END'), 2);
  assert.equal(constant('TYPE_INSTANT'), 3);
  assert.equal(constant('SEQ_INCREMENTAL_STATE_CLEARED'), 1);
});
