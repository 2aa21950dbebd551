// Reads rrdtool's dump XML (what `rrdtool dump` writes) into a definition, a state and the
// archived rows, so Munin and Cacti history moves over. Only the DS types and CFs ringtail
// implements are accepted; anything else is named in the error.
import { RrdError } from './errors.js';
import { strtod } from './numbers.js';
import type { Cf, DsDef, DsType, RraDef, SeriesDef, SeriesState } from './types.js';

const DS_TYPES = new Set(['GAUGE', 'COUNTER', 'DERIVE', 'ABSOLUTE', 'DCOUNTER', 'DDERIVE']);
const CFS = new Set(['AVERAGE', 'MIN', 'MAX', 'LAST']);

function tag(block: string, name: string, required = true): string {
  const m = new RegExp(`<${name}>([\\s\\S]*?)</${name}>`).exec(block);
  if (!m) {
    if (required) throw new RrdError(`dump XML: missing <${name}>`);
    return '';
  }
  return m[1]!.trim();
}

function num(s: string, what: string): number {
  const t = s.trim();
  if (t === 'NaN' || t === 'nan' || t === '-nan' || t === 'U') return NaN;
  const r = strtod(t);
  if (!r || r.rest.trim() !== '') throw new RrdError(`dump XML: ${what}: not a number: '${s}'`);
  return r.value;
}

function blocks(xml: string, name: string): string[] {
  const out: string[] = [];
  const re = new RegExp(`<${name}>([\\s\\S]*?)</${name}>`, 'g');
  for (const m of xml.matchAll(re)) out.push(m[1]!);
  return out;
}

export function parseDump(xml: string): { def: SeriesDef; state: SeriesState; rows: Float64Array[] } {
  const noComments = xml.replace(/<!--[\s\S]*?-->/g, '');
  if (!/<rrd>/.test(noComments)) throw new RrdError('dump XML: no <rrd> element');
  const step = num(tag(noComments, 'step'), 'step');
  const lastUp = num(tag(noComments, 'lastupdate'), 'lastupdate');
  const firstRra = noComments.indexOf('<rra>');
  const head = firstRra < 0 ? noComments : noComments.slice(0, firstRra);
  const ds: DsDef[] = [];
  const dsState: SeriesState['ds'] = [];
  for (const b of blocks(head, 'ds')) {
    const type = tag(b, 'type');
    if (!DS_TYPES.has(type)) throw new RrdError(`dump XML: DS type ${type} is not supported`);
    ds.push({ name: tag(b, 'name'), type: type as DsType, heartbeat: num(tag(b, 'minimal_heartbeat'), 'minimal_heartbeat'), min: num(tag(b, 'min'), 'min'), max: num(tag(b, 'max'), 'max') });
    dsState.push({ lastDs: tag(b, 'last_ds').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&'), scratch: num(tag(b, 'value'), 'value'), unknSec: num(tag(b, 'unknown_sec'), 'unknown_sec') });
  }
  if (ds.length === 0) throw new RrdError('dump XML: no <ds>');
  const rra: RraDef[] = [];
  const cdp: SeriesState['cdp'] = [];
  const rows: Float64Array[] = [];
  for (const b of blocks(noComments, 'rra')) {
    const cf = tag(b, 'cf');
    if (!CFS.has(cf)) throw new RrdError(`dump XML: consolidation function ${cf} is not supported`);
    const pdpPerRow = num(tag(b, 'pdp_per_row'), 'pdp_per_row');
    const xff = num(tag(tag(b, 'params'), 'xff'), 'xff');
    const preps = blocks(tag(b, 'cdp_prep'), 'ds').map((p) => ({
      primary: num(tag(p, 'primary_value'), 'primary_value'),
      secondary: num(tag(p, 'secondary_value'), 'secondary_value'),
      val: num(tag(p, 'value'), 'value'),
      unkn: num(tag(p, 'unknown_datapoints'), 'unknown_datapoints'),
    }));
    if (preps.length !== ds.length) throw new RrdError(`dump XML: RRA ${rra.length} has ${preps.length} cdp_prep entries for ${ds.length} DS`);
    const rowBlocks = blocks(tag(b, 'database', false), 'row');
    const data = new Float64Array(rowBlocks.length * ds.length);
    rowBlocks.forEach((rb, i) => {
      const vs = blocks(rb, 'v');
      if (vs.length !== ds.length) throw new RrdError(`dump XML: RRA ${rra.length} row ${i} has ${vs.length} values for ${ds.length} DS`);
      vs.forEach((v, d) => (data[i * ds.length + d] = num(v, 'v')));
    });
    if (rowBlocks.length === 0) throw new RrdError(`dump XML: RRA ${rra.length} has no rows`);
    rra.push({ cf: cf as Cf, xff, pdpPerRow, rows: rowBlocks.length });
    cdp.push(preps);
    rows.push(data);
  }
  if (rra.length === 0) throw new RrdError('dump XML: no <rra>');
  return { def: { step, ds, rra }, state: { lastUp, ds: dsState, cdp }, rows };
}
